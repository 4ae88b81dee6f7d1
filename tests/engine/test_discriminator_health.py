"""DiscriminatorHealthHook: a constant or chance-level discriminator is reported once, by name,
after a full window; a learning one is not."""

import logging
import math
from types import SimpleNamespace

from detectron2.utils.events import EventStorage

from i2v_plugin.engine.discriminator_health import DiscriminatorHealthHook


def run(figures_at, iterations=120, window=50):
    """Feed ``figures_at(name, it) -> dict`` for two discriminators into a storage; return the
    hook's report after the run."""
    hook = DiscriminatorHealthHook(window=window, period=10)
    trainer = SimpleNamespace(iter=0)
    hook.trainer = trainer
    with EventStorage(0) as storage:
        trainer.storage = storage
        for it in range(iterations):
            trainer.iter = storage.iter = it
            for name in ("global", "cluster"):
                for key, value in figures_at(name, it).items():
                    storage.put_scalar(f"i2v/disc/{name}/{key}", value, smoothing_hint=False)
            hook.after_step()
        hook.after_train()
    return hook.report()


def healthy(it):
    return {"acc": 0.8, "loss": 0.4, "const_loss": math.log(2), "logit_std": 1.5, "dead_units": 0}


def test_constant_logits_are_reported_once_with_the_name(caplog):
    def figures(name, it):
        if name == "global" and it >= 30:
            return {"acc": 0.5, "loss": 0.6931, "const_loss": math.log(2), "logit_std": 0.0,
                    "dead_units": 1.0}  # fmt: skip
        return healthy(it)

    with caplog.at_level(logging.WARNING):
        report = run(figures)
    assert report["global"]["collapsed"] and report["global"]["reason"] == "constant logits"
    assert report["global"]["detected_at"] == 79  # 50 constant iterations after iteration 30
    assert not report["cluster"]["collapsed"]
    warnings = [r.getMessage() for r in caplog.records if "collapsed" in r.getMessage()]
    assert len(warnings) == 1 and "'global'" in warnings[0]


def test_chance_level_no_better_than_constant_is_a_collapse():
    def figures(name, it):
        if name == "cluster":
            wobble = 0.01 * (-1) ** it  # non-constant logits, but no information
            return {"acc": 0.5 + wobble, "loss": math.log(2) + 0.001, "const_loss": math.log(2),
                    "logit_std": 0.05, "dead_units": 0.0}  # fmt: skip
        return healthy(it)

    report = run(figures)
    assert report["cluster"]["collapsed"]
    assert report["cluster"]["reason"].startswith("at chance")
    assert not report["global"]["collapsed"]
    assert report["global"]["last_window"]["acc"] == 0.8


def test_nothing_is_reported_before_a_full_window():
    def figures(name, it):
        return {"acc": 0.5, "loss": 0.7, "const_loss": 0.69, "logit_std": 0.0, "dead_units": 1}

    report = run(figures, iterations=40, window=50)
    assert not any(entry["collapsed"] for entry in report.values())
