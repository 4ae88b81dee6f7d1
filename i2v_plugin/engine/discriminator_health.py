"""``DiscriminatorHealthHook``: reports a discriminator that has collapsed, once, by name.

Every discriminator logs its health figures each step (``modeling/adversarial/health.py``) as
``i2v/disc/<name>/<key>``. Over the last ``window`` iterations this hook calls a discriminator
collapsed when

- its logits are constant (logit standard deviation below ``logit_eps`` at every step), or
- it is at chance and no better than a constant predictor (mean balanced accuracy within
  ``chance_margin`` of 0.5 and mean loss within ``loss_margin`` of the constant-predictor loss).

Either way its reversed gradient carries no domain signal. The first detection logs one warning
naming the discriminator and the figures, and is kept in ``report()`` (written to
``final_results.json``). After ``--resume`` the window starts again from the resumed iteration.
"""

import logging
import math
import statistics

from detectron2.engine import HookBase

logger = logging.getLogger(__name__)
PREFIX = "i2v/disc/"


class DiscriminatorHealthHook(HookBase):
    """Args:
    window: iterations a collapse must last before it is reported.
    period: check every ``period`` iterations (the figures are logged every step).
    logit_eps: logit standard deviation under which the output counts as constant.
    chance_margin: balanced accuracy within this of 0.5 counts as chance.
    loss_margin: loss within this of (or above) the constant-predictor loss counts as no
        better than it.
    """

    def __init__(
        self,
        window: int,
        period: int = 20,
        logit_eps: float = 1e-3,
        chance_margin: float = 0.02,
        loss_margin: float = 0.005,
    ):
        self.window = int(window)
        self.period = int(period)
        self.logit_eps = logit_eps
        self.chance_margin = chance_margin
        self.loss_margin = loss_margin
        self._collapsed: dict[str, dict] = {}
        self._last: dict[str, dict] = {}

    def _recent(self, name: str, key: str) -> list[tuple[float, int]]:
        histories = self.trainer.storage.histories()
        full = f"{PREFIX}{name}/{key}"
        if full not in histories:
            return []
        return [
            (v, i)
            for v, i in histories[full].values()
            if i > self.trainer.iter - self.window and math.isfinite(v)
        ]

    def _names(self) -> list[str]:
        keys = self.trainer.storage.histories()
        return sorted({k[len(PREFIX) :].split("/")[0] for k in keys if k.startswith(PREFIX)})

    def _diagnose(self, name: str) -> str | None:
        spread = self._recent(name, "logit_std")
        if not spread:
            return None
        first = min(i for _, i in spread)
        means = {
            key: statistics.fmean(v for v, _ in values) if values else math.nan
            for key in ("acc", "loss", "const_loss", "logit_std", "dead_units")
            for values in [self._recent(name, key)]
        }
        self._last[name] = means
        # A full window of this run must be logged before anything is called a collapse.
        if self.trainer.iter - first + 1 < self.window:
            return None
        if max(v for v, _ in spread) < self.logit_eps:
            return "constant logits"
        at_chance = abs(means["acc"] - 0.5) <= self.chance_margin
        if at_chance and means["loss"] >= means["const_loss"] - self.loss_margin:
            return "at chance, no better than a constant predictor"
        return None

    def after_step(self):
        if self.window <= 0 or (self.trainer.iter + 1) % self.period:
            return
        for name in self._names():
            if name in self._collapsed:
                continue
            reason = self._diagnose(name)
            if reason is None:
                continue
            figures = self._last[name]
            self._collapsed[name] = {"iteration": self.trainer.iter, "reason": reason}
            logger.warning(
                "Discriminator %r collapsed over iterations %d-%d: %s (mean balanced accuracy "
                "%.3f, loss %.4f vs constant-predictor loss %.4f, logit std %.2g, dead units "
                "%.0f%%). Its reversed gradient carries no domain signal.",
                name,
                self.trainer.iter - self.window + 1,
                self.trainer.iter,
                reason,
                figures["acc"],
                figures["loss"],
                figures["const_loss"],
                figures["logit_std"],
                100 * figures["dead_units"],
            )

    def after_train(self):
        # The figures of the final window, for the report.
        for name in self._names():
            self._diagnose(name)

    def report(self) -> dict[str, dict]:
        """Per discriminator: ``collapsed`` (bool), ``detected_at`` / ``reason`` of the first
        detection (None when healthy) and the mean figures of the last window checked."""
        return {
            name: {
                "collapsed": name in self._collapsed,
                "detected_at": self._collapsed.get(name, {}).get("iteration"),
                "reason": self._collapsed.get(name, {}).get("reason"),
                "last_window": {
                    key: (value if math.isfinite(value) else None)
                    for key, value in self._last.get(name, {}).items()
                },
            }
            for name in sorted(set(self._last) | set(self._collapsed))
        }
