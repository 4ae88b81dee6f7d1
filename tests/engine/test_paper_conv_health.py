"""The paper's CNN discriminator (``PaperConvDiscriminator``) under the discriminator health
monitor: trained with every ReLU unit dead it is reported as collapsed; trained from a normal
initialisation on separable domains it is not."""

from types import SimpleNamespace

import torch
from detectron2.utils.events import EventStorage

from i2v_plugin.engine.discriminator_health import DiscriminatorHealthHook
from i2v_plugin.modeling.adversarial.discriminators import PaperConvDiscriminator
from i2v_plugin.modeling.adversarial.losses import DomainAdversarialLoss
from i2v_plugin.modeling.objectives.adversarial import health_scalars

CHANNELS, SIDE = 4, 4
DOMAINS = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])


def paper_conv(dead: bool) -> DomainAdversarialLoss:
    torch.manual_seed(0)
    disc = PaperConvDiscriminator(CHANNELS, conv_channels=16, hidden_dim=16)
    if dead:
        # Every fully connected output far below 0 for any input: every ReLU unit is dead.
        with torch.no_grad():
            disc.fc.bias.fill_(-1e3)
    return DomainAdversarialLoss(disc, "dense")


def train_and_watch(losses: dict, iterations=50, window=25):
    """Train each discriminator on domains 1.5 apart, logging its health figures as the
    adversarial objectives do; return the hook's report."""
    hook = DiscriminatorHealthHook(window=window, period=10)
    trainer = SimpleNamespace(iter=0)
    hook.trainer = trainer
    optims = {name: torch.optim.Adam(m.parameters(), lr=1e-2) for name, m in losses.items()}
    gen = torch.Generator().manual_seed(1)
    with EventStorage(0) as storage:
        trainer.storage = storage
        for it in range(iterations):
            trainer.iter = storage.iter = it
            features = torch.randn(8, CHANNELS, SIDE, SIDE, generator=gen)
            features = features + 1.5 * DOMAINS.view(-1, 1, 1, 1)
            for name, module in losses.items():
                loss, stats = module(features, DOMAINS, 0.0)
                optims[name].zero_grad()
                loss.backward()
                optims[name].step()
                storage.put_scalars(**health_scalars(name, stats), smoothing_hint=False)
            hook.after_step()
        hook.after_train()
    return hook.report()


def test_dead_paper_conv_is_reported_and_a_learning_one_is_not():
    report = train_and_watch({"dead": paper_conv(dead=True), "alive": paper_conv(dead=False)})
    dead = report["dead"]
    assert dead["collapsed"] and dead["reason"] == "constant logits"
    assert dead["detected_at"] == 29  # the first check (every 10) after a full window
    assert dead["last_window"]["dead_units"] == 1.0
    assert dead["last_window"]["logit_std"] < 1e-6  # one constant logit, up to rounding
    alive = report["alive"]
    assert not alive["collapsed"]
    assert alive["last_window"]["acc"] > 0.9
    assert alive["last_window"]["loss"] < 0.5 * alive["last_window"]["const_loss"]
