"""Tiny trees in the published layouts of DAVIS 2017, COCO-Stuff and FBMS-59, shared by the
registration tests (``tests/data``) and the converter tests (``tests/data/prepare``)."""

import json
import os

import numpy as np
from PIL import Image

# ---- DAVIS 2017 ------------------------------------------------------------------------------

DAVIS_TRAIN = ["bmx-bumps", "dog-gooses", "lab-coat-train"]
DAVIS_VAL = ["bike-packing", "dogs-jump", "goat"]
DAVIS_SEMANTICS = {
    "bmx-bumps": {"1": "person", "2": "bike"},
    "dog-gooses": {"1": "dog", "2": "goose"},
    "lab-coat-train": {"1": "person", "2": "cellphone", "3": "car"},
    "bike-packing": {"1": "bicycle", "2": "person", "3": "cellphone"},
    "dogs-jump": {"1": "dog", "2": "dog", "3": "person", "4": "horse"},
    "goat": {"1": "goat"},
}
DAVIS_CATEGORIES = [
    "person",
    "bike",
    "bicycle",
    "dog",
    "goose",
    "cellphone",
    "car",
    "goat",
    "horse",
]
# train ∩ val ∩ COCO, COCO order: "bike" is COCO's bicycle, car only in train, horse only in val.
DAVIS_SHARED_CLASSES = ["background", "person", "bicycle", "dog", "cell phone"]
DAVIS_NUM_FRAMES = 2


def instance_mask(seq: str, frame: int) -> np.ndarray:
    """6 x 8 mask with background, every object id of ``seq`` and void (255)."""
    ids = [int(k) for k in DAVIS_SEMANTICS[seq]]
    mask = np.zeros((6, 8), np.uint8)
    for n, object_id in enumerate(ids):
        mask[n % 6, (frame + n) % 8 : (frame + n) % 8 + 2] = object_id
    mask[5, 6:] = 255
    return mask


def write_palette_png(path, array, palette=None):
    """A palette ("P") PNG of ``array``; the default palette is not DAVIS's, so a colour never
    happens to equal an index."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = Image.fromarray(array)
    image.putpalette(palette or [(v * 37) % 256 for v in range(768)])
    image.save(path)


def make_davis_tree(parent) -> str:
    """``<parent>/DAVIS`` with lists, semantics, categories, frames and both instance folders."""
    root = os.path.join(parent, "DAVIS")
    sets = os.path.join(root, "ImageSets", "2017")
    os.makedirs(sets)
    for split, sequences in (("train", DAVIS_TRAIN), ("val", DAVIS_VAL)):
        with open(os.path.join(sets, f"{split}.txt"), "w") as f:
            f.write("\n".join(sequences) + "\n")
    with open(os.path.join(root, "davis_semantics.json"), "w") as f:
        json.dump(DAVIS_SEMANTICS, f)
    categories = {n: {"id": i + 1, "super_category": "x"} for i, n in enumerate(DAVIS_CATEGORIES)}
    with open(os.path.join(root, "categories.json"), "w") as f:
        json.dump(categories, f)
    for seq in DAVIS_TRAIN + DAVIS_VAL:
        for frame in range(DAVIS_NUM_FRAMES):
            jpg = os.path.join(root, "JPEGImages", "480p", seq, f"{frame:05d}.jpg")
            os.makedirs(os.path.dirname(jpg), exist_ok=True)
            Image.fromarray(np.full((6, 8, 3), 90, np.uint8)).save(jpg)
            for folder in ("Annotations", "Annotations_unsupervised"):
                png = os.path.join(root, folder, "480p", seq, f"{frame:05d}.png")
                write_palette_png(png, instance_mask(seq, frame))
    return root


# ---- COCO-Stuff 164k -------------------------------------------------------------------------

COCO_IMAGE_IDS = {"train2017": ["000000000009", "000000000025"], "val2017": ["000000000139"]}


def every_value_map() -> np.ndarray:
    """A 14 x 14 map holding every COCO-Stuff value 0..181 once, the rest 255 (unlabeled)."""
    values = np.full(14 * 14, 255, np.uint8)
    values[:182] = np.arange(182)
    return values.reshape(14, 14)


def write_png(path, array, mode="L"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    image = Image.fromarray(array)
    if mode == "P":
        image.putpalette([v % 256 for v in range(768)])
    image.save(path)


def make_coco_tree(parent) -> str:
    """``<parent>/coco/{train2017,val2017}/*.jpg`` and ``coco/stuffthingmaps/<split>/*.png``."""
    root = os.path.join(parent, "coco")
    rng = np.random.default_rng(0)
    for split, ids in COCO_IMAGE_IDS.items():
        os.makedirs(os.path.join(root, split), exist_ok=True)
        for n, image_id in enumerate(ids):
            image = rng.integers(0, 255, (14, 14, 3), dtype=np.uint8)
            Image.fromarray(image).save(os.path.join(root, split, f"{image_id}.jpg"))
            labels = np.roll(every_value_map(), n * 5)
            write_png(os.path.join(root, "stuffthingmaps", split, f"{image_id}.png"), labels)
    return root


# ---- FBMS-59 ---------------------------------------------------------------------------------

FBMS_H, FBMS_W = 6, 8
RED_ISH, BLUE = (200, 10, 30), (0, 0, 255)
# (200 << 16) | (10 << 8) | 30 and (0 << 16) | (0 << 8) | 255, written out by hand.
RED_ISH_PACKED, BLUE_PACKED = 13109790, 255


def dat_text(regions, total, frames):
    """A Def.dat in the published layout: headed fields, value on the following line."""
    parts = [
        "Ground truth definition file; FBMS-59",
        "",
        "Total number of regions:",
        str(len(regions)),
    ]
    for k, scale in enumerate(regions):
        parts += ["", f"Scale of region {k}:", str(scale)]
    parts += ["", "Total number of frames in this shot:", str(total)]
    parts += ["", "Total number of labeled frames for this shot:", str(len(frames))]
    for number, gt_name, image_name in frames:
        parts += ["", "Frame number:", str(number), "", "File name:", gt_name]
        parts += ["", "Input file name:", image_name]
    return "\n".join(parts) + "\n"


def grey_gt(frame: int) -> np.ndarray:
    gt = np.zeros((FBMS_H, FBMS_W), np.uint8)
    gt[1:4, frame : frame + 3] = 255
    return gt


def colour_gt(frame: int) -> np.ndarray:
    gt = np.zeros((FBMS_H, FBMS_W, 3), np.uint8)
    gt[0:2, frame : frame + 4] = RED_ISH
    gt[3:6, 5:8] = BLUE
    return gt


def regions_of_colour_gt(frame: int) -> np.ndarray:
    """Region index of each pixel of ``colour_gt``: 0 black, 1 red-ish, 2 blue."""
    regions = np.zeros((FBMS_H, FBMS_W), np.uint8)
    regions[0:2, frame : frame + 4] = 1
    regions[3:6, 5:8] = 2
    return regions


def write_sequence(split_dir, seq, names, gt_frames, dat):
    seq_dir = split_dir / seq
    (seq_dir / "GroundTruth").mkdir(parents=True)
    for name in names:
        Image.fromarray(np.full((FBMS_H, FBMS_W, 3), 80, np.uint8)).save(seq_dir / name)
    for gt_name, array in gt_frames.items():
        Image.fromarray(array).save(seq_dir / "GroundTruth" / gt_name)
    (seq_dir / "GroundTruth" / f"{seq}Def.dat").write_text(dat)


def make_fbms_tree(parent):
    """``<parent>/FBMS`` (a Path). Trainingset/cars1: counter from 1, .pgm; Testset/marple2:
    counter from 0, .ppm, 3 regions and a *PROB_gt.ppm entry that must be skipped."""
    root = parent / "FBMS"
    cars = [f"cars1_{i:02d}.jpg" for i in range(1, 6)]
    write_sequence(
        root / "Trainingset", "cars1", cars,
        {"cars1_01_gt.pgm": grey_gt(0), "cars1_05_gt.pgm": grey_gt(4)},
        dat_text([0, 255], 5, [(0, "cars1_01_gt.pgm", "cars1_01.jpg"),
                               (4, "cars1_05_gt.pgm", "cars1_05.jpg")]),
    )  # fmt: skip
    marple = [f"marple2_{i:03d}.jpg" for i in range(0, 12)]
    write_sequence(
        root / "Testset", "marple2", marple,
        {"marple2_000_gt.ppm": colour_gt(0), "marple2_010_gt.ppm": colour_gt(3),
         "marple2_010PROB_gt.ppm": np.full((FBMS_H, FBMS_W, 3), 7, np.uint8)},
        dat_text([0, RED_ISH_PACKED, BLUE_PACKED], 12,
                 [(0, "marple2_000_gt.ppm", "marple2_000.jpg"),
                  (10, "marple2_010_gt.ppm", "marple2_010.jpg"),
                  (10, "marple2_010PROB_gt.ppm", "marple2_010.jpg")]),
    )  # fmt: skip
    return root


# ---- Paper path: real-sized DAVIS 2017 and COCO-Stuff trees ----------------------------------
# Frames at DAVIS's 480p size (854 x 480) and COCO-sized images, with every class of the default
# shared list (i2v_plugin.data.datasets.classes.DEFAULT_SHARED_CLASSES) in DAVIS train and val,
# so the prepare scripts compute exactly that list and the shipped configs (12 classes) run as is.

PAPER_FRAME_H, PAPER_FRAME_W = 480, 854
# DAVIS spellings where they differ from COCO ("bike", "motorbike", "cellphone"), and one
# object of a class COCO lacks ("goat": shared by nobody, becomes background).
PAPER_DAVIS_SEMANTICS = {
    "bmx-trees": {"1": "person", "2": "bike", "3": "car", "4": "motorbike", "5": "bird"},
    "dog-agility": {"1": "dog", "2": "horse", "3": "cow", "4": "backpack", "5": "surfboard"},
    "lab-coat": {"1": "person", "2": "cellphone", "3": "goat"},
    "bike-packing": dict(
        zip(
            map(str, range(1, 12)),
            ["person", "bicycle", "car", "motorcycle", "bird", "cow", "dog", "horse"]
            + ["backpack", "surfboard", "cellphone"],
        )
    ),
}
PAPER_DAVIS_TRAIN = ["bmx-trees", "dog-agility", "lab-coat"]
PAPER_DAVIS_VAL = ["bike-packing"]
PAPER_DAVIS_FRAMES = 2
# COCO-Stuff values (category_id - 1) in the images: things of the shared list, a thing outside
# it (umbrella 27) and stuff (grass 123, sky-other 156), which all become background.
PAPER_COCO_IMAGES = {
    "train2017": {"000000000009": [0, 17, 2, 123], "000000000025": [18, 1, 41, 156, 27]},
    "val2017": {"000000000139": [0, 15, 3, 123]},
}


def _boxes(count: int, height: int, width: int, shift: int = 0):
    """``count`` non-overlapping boxes (y0, y1, x0, x1) on a grid, moved right by ``shift``."""
    columns = 4
    rows = (count + columns - 1) // columns
    cell_h, cell_w = height // rows, width // columns
    for n in range(count):
        y0, x0 = (n // columns) * cell_h, (n % columns) * cell_w
        yield (
            y0 + cell_h // 6,
            y0 + cell_h * 5 // 6,
            x0 + cell_w // 6 + shift,
            x0 + cell_w * 2 // 3 + shift,
        )


def _scene(labels: np.ndarray, seed: int) -> np.ndarray:
    """An RGB picture of a label map: a gradient background and one colour per value."""
    rng = np.random.default_rng(seed)
    h, w = labels.shape
    image = np.zeros((h, w, 3), np.uint8)
    image[..., 0] = np.linspace(40, 200, w, dtype=np.uint8)[None, :]
    image[..., 1] = np.linspace(60, 180, h, dtype=np.uint8)[:, None]
    image[..., 2] = 90
    for value in np.unique(labels):
        if value not in (0, 255):
            image[labels == value] = rng.integers(0, 255, 3)
    return image


def make_paper_davis_tree(parent) -> str:
    """``<parent>/DAVIS`` in the published layout, 854 x 480 frames (see PAPER_DAVIS_*)."""
    root = os.path.join(parent, "DAVIS")
    sets = os.path.join(root, "ImageSets", "2017")
    os.makedirs(sets)
    for split, sequences in (("train", PAPER_DAVIS_TRAIN), ("val", PAPER_DAVIS_VAL)):
        with open(os.path.join(sets, f"{split}.txt"), "w") as f:
            f.write("\n".join(sequences) + "\n")
    with open(os.path.join(root, "davis_semantics.json"), "w") as f:
        json.dump(PAPER_DAVIS_SEMANTICS, f)
    names = sorted({n for objects in PAPER_DAVIS_SEMANTICS.values() for n in objects.values()})
    categories = {n: {"id": i + 1, "super_category": "x"} for i, n in enumerate(names)}
    with open(os.path.join(root, "categories.json"), "w") as f:
        json.dump(categories, f)
    for s, seq in enumerate(PAPER_DAVIS_TRAIN + PAPER_DAVIS_VAL):
        ids = [int(k) for k in PAPER_DAVIS_SEMANTICS[seq]]
        for frame in range(PAPER_DAVIS_FRAMES):
            mask = np.zeros((PAPER_FRAME_H, PAPER_FRAME_W), np.uint8)
            for object_id, (y0, y1, x0, x1) in zip(
                ids, _boxes(len(ids), PAPER_FRAME_H, PAPER_FRAME_W, shift=8 * frame)
            ):
                mask[y0:y1, x0:x1] = object_id
                mask[y0 : y0 + 3, x0:x1] = 255  # void along an object edge, as in DAVIS
            name = f"{frame:05d}"
            jpg = os.path.join(root, "JPEGImages", "480p", seq, name + ".jpg")
            os.makedirs(os.path.dirname(jpg), exist_ok=True)
            Image.fromarray(_scene(mask, s)).save(jpg, quality=90)
            write_palette_png(os.path.join(root, "Annotations", "480p", seq, name + ".png"), mask)
    return root


def make_paper_coco_tree(parent) -> str:
    """``<parent>/coco``: 640 x 480 JPEGs and ``stuffthingmaps`` (value = category_id - 1)."""
    root = os.path.join(parent, "coco")
    for split, images in PAPER_COCO_IMAGES.items():
        os.makedirs(os.path.join(root, split), exist_ok=True)
        for n, (image_id, values) in enumerate(images.items()):
            labels = np.full((480, 640), 255, np.uint8)  # unlabeled where no segment lies
            for value, (y0, y1, x0, x1) in zip(values, _boxes(len(values), 480, 640)):
                labels[y0:y1, x0:x1] = value
            labels[:40] = values[-1]  # a band of the last value, as stuff fills whole regions
            Image.fromarray(_scene(labels, 10 + n)).save(
                os.path.join(root, split, f"{image_id}.jpg"), quality=90
            )
            write_png(os.path.join(root, "stuffthingmaps", split, f"{image_id}.png"), labels)
    return root
