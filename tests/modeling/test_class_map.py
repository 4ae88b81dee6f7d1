import torch

from i2v_plugin.modeling.class_map import class_map


def test_class_map_equals_argmax_with_ties():
    generator = torch.Generator().manual_seed(0)
    # Few distinct values: many ties, where the first maximal class must win.
    logits = torch.randint(0, 3, (2, 11, 17, 13), generator=generator).float()
    assert torch.equal(class_map(logits, dim=1), logits.argmax(1))
    assert torch.equal(class_map(logits[0]), logits[0].argmax(0))
    assert class_map(logits[0]).dtype == torch.int64


def test_class_map_picks_first_maximum():
    logits = torch.zeros(4, 1, 1)
    logits[1] = 2.0
    logits[3] = 2.0
    assert class_map(logits).item() == 1
