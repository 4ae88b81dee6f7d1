"""The two domains of the method and their integer labels (the discriminators' targets)."""

DOMAINS = ("image", "video")


def domain_index(domain: str) -> int:
    """Map a sample's ``domain`` string to its label: "image" -> 0, "video" -> 1."""
    try:
        return DOMAINS.index(domain)
    except ValueError:
        raise ValueError(f"Unknown domain {domain!r}; expected one of {DOMAINS}") from None
