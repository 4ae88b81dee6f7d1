"""``setup_cfg``: the one config recipe every tool uses (train, evaluate, predict, benchmark)."""

from detectron2.config import get_cfg
from detectron2.engine import default_setup
from detectron2.projects.deeplab import add_deeplab_config
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

from ..config import add_i2v_config


def default_cfg():
    """Every key at its default: ``get_cfg`` with the DeepLab and i2v keys (unfrozen)."""
    cfg = get_cfg()
    add_deeplab_config(cfg)
    add_i2v_config(cfg)
    return cfg


def build_cfg(config_file: str = "", opts=()):
    """``get_cfg`` -> DeepLab keys -> i2v keys -> YAML file -> command-line overrides (frozen).

    Unknown keys in the file or the overrides raise Detectron2's own KeyError.
    """
    cfg = default_cfg()
    if config_file:
        cfg.merge_from_file(config_file)
    cfg.merge_from_list(list(opts))
    cfg.freeze()
    return cfg


def setup_cfg(args):
    """Build the config from parsed ``default_argument_parser`` args and run ``default_setup``
    (output dir, logging, config dump, seeding). The plugin's own loggers (discriminator health,
    skipped samples, ...) write to the same ``log.txt`` and console as Detectron2's."""
    cfg = build_cfg(args.config_file, args.opts)
    default_setup(cfg, args)
    setup_logger(cfg.OUTPUT_DIR, distributed_rank=comm.get_rank(), name="i2v_plugin")
    return cfg
