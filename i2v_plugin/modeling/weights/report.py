"""``ConversionReport``: what a weight conversion renamed, dropped and added, in words."""

from dataclasses import dataclass, field


@dataclass
class ConversionReport:
    """Record of one conversion.

    Attributes:
        source: the source format (e.g. "timm-swin").
        converted: number of source tensors written under a new name.
        dropped: source key -> why it was not converted (e.g. a head of another class count).
        added: target key -> why it was created without a source tensor (e.g. identity init).
        skipped_buffers: constant buffers left out because the model recomputes them.
        notes: other remarks (e.g. a folded norm).
    """

    source: str
    converted: int = 0
    dropped: dict[str, str] = field(default_factory=dict)
    added: dict[str, str] = field(default_factory=dict)
    skipped_buffers: int = 0
    notes: list[str] = field(default_factory=list)

    def drop(self, key: str, reason: str) -> None:
        self.dropped[key] = reason

    def summary(self) -> str:
        """A multi-line human-readable summary."""
        lines = [f"[{self.source}] converted {self.converted} tensors"]
        if self.skipped_buffers:
            lines.append(
                f"  skipped {self.skipped_buffers} constant buffers (relative position index, "
                "attention masks) that the model recomputes"
            )
        if self.dropped:
            lines.append(f"  dropped {len(self.dropped)} source tensors:")
            lines += [f"    {key}: {reason}" for key, reason in sorted(self.dropped.items())]
        if self.added:
            lines.append(f"  added {len(self.added)} tensors without a source:")
            lines += [f"    {key}: {reason}" for key, reason in sorted(self.added.items())]
        lines += [f"  note: {note}" for note in self.notes]
        return "\n".join(lines)
