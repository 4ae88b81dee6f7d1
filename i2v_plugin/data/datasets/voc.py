"""Pascal VOC 2012 segmentation: unlabeled train images and the labeled val split in VOC's own
21 classes. ``voc2012_unlabeled_train_as_video`` gives the train images the "video" domain, for
the ablation where unlabeled images replace the videos as the discriminators' second domain.

Layout (root ``$DETECTRON2_DATASETS/VOCdevkit/VOC2012``):
  JPEGImages/<id>.jpg
  SegmentationClass/<id>.png              palette PNGs: 0 background, 1..20 classes, 255 void
  ImageSets/Segmentation/{train,val,trainval}.txt
"""

import os

from detectron2.data import DatasetCatalog, MetadataCatalog

# Label value = index; 1..20 are the VOC classes in alphabetical order.
VOC_CLASSES = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
VOID = 255


def _image_ids(voc_root: str, split: str) -> list[str]:
    path = os.path.join(voc_root, "ImageSets", "Segmentation", f"{split}.txt")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"VOC split list not found: expected {path}")
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def load_voc_images(voc_root: str, split: str, labeled: bool, domain: str = "image") -> list[dict]:
    """The images of ``ImageSets/Segmentation/<split>.txt``; nothing is decoded.

    Args:
        voc_root: the ``VOCdevkit/VOC2012`` folder.
        split: "train", "val" or "trainval".
        labeled: add "sem_seg_file_name" (``SegmentationClass/<id>.png``).
        domain: the samples' domain; "video" lets VOC stand in for the target domain in the
            ablation "unlabeled images instead of videos".
    Returns:
        dicts with "file_name", "domain" (and "sem_seg_file_name").
    Raises:
        FileNotFoundError naming the split list, or the first missing image or label.
    """
    dicts = []
    for image_id in _image_ids(voc_root, split):
        d = {"file_name": os.path.join(voc_root, "JPEGImages", f"{image_id}.jpg"), "domain": domain}
        if labeled:
            d["sem_seg_file_name"] = os.path.join(voc_root, "SegmentationClass", f"{image_id}.png")
        for key in ("file_name", "sem_seg_file_name"):
            if key in d and not os.path.isfile(d[key]):
                raise FileNotFoundError(
                    f"VOC {split} lists {image_id}, but {d[key]} does not exist"
                )
        dicts.append(d)
    return dicts


# name -> (split list, labeled, domain)
_PREDEFINED_SPLITS = {
    "voc2012_unlabeled_train": ("train", False, "image"),
    "voc2012_unlabeled_train_as_video": ("train", False, "video"),
    "voc2012_val": ("val", True, "image"),
}


def register_all_voc(root: str) -> None:
    """Register the VOC 2012 splits under ``<root>/VOCdevkit/VOC2012`` (read lazily)."""
    voc_root = os.path.join(root, "VOCdevkit", "VOC2012")
    for name, (split, labeled, domain) in _PREDEFINED_SPLITS.items():
        DatasetCatalog.register(
            name, lambda s=split, lab=labeled, dom=domain: load_voc_images(voc_root, s, lab, dom)
        )
        meta = {"stuff_classes": list(VOC_CLASSES), "ignore_label": VOID}
        if labeled:
            meta["evaluator_type"] = "sem_seg"
        MetadataCatalog.get(name).set(**meta)
