#!/usr/bin/env python
"""Train or evaluate an i2v_plugin model with Detectron2's launcher.

python tools/train_net.py --config-file configs/synthetic/swin_clustered.yaml
python tools/train_net.py --config-file CFG --num-gpus 8
python tools/train_net.py --config-file CFG --resume            # continue from OUTPUT_DIR
python tools/train_net.py --config-file CFG --eval-only MODEL.WEIGHTS model_final.pth
"""

import logging

from detectron2.checkpoint import DetectionCheckpointer
from detectron2.engine import default_argument_parser, launch
from detectron2.utils import comm

import i2v_plugin  # noqa: F401  (registers everything)
from i2v_plugin.engine import I2VTrainer, setup_cfg
from i2v_plugin.engine.launch import set_threads_per_process
from i2v_plugin.engine.summary import (
    format_results_table,
    per_sequence_scores,
    save_final_results,
)


def main(args):
    threads = set_threads_per_process()  # before any parallel region of this process
    cfg = setup_cfg(args)
    logging.getLogger("detectron2").info(threads)
    if args.eval_only:
        model = I2VTrainer.build_model(cfg)
        DetectionCheckpointer(model, save_dir=cfg.OUTPUT_DIR).resume_or_load(
            cfg.MODEL.WEIGHTS, resume=args.resume
        )
        results = I2VTrainer.test(cfg, model)
    else:
        trainer = I2VTrainer(cfg)
        trainer.resume_or_load(resume=args.resume)
        results = trainer.train()
        data = trainer.data_report()  # every process takes part
        if comm.is_main_process():
            save_final_results(
                cfg,
                results,
                cfg.SOLVER.MAX_ITER,
                discriminators=trainer.discriminator_report(),
                data=data,
                per_sequence=per_sequence_scores(cfg),
            )
    if comm.is_main_process() and results:
        print(format_results_table(results), flush=True)
    return results


if __name__ == "__main__":
    args = default_argument_parser().parse_args()
    launch(
        main,
        args.num_gpus,
        num_machines=args.num_machines,
        machine_rank=args.machine_rank,
        dist_url=args.dist_url,
        args=(args,),
    )
