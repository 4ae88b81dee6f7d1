"""``add_i2v_config(cfg)``: every config key the plugin adds, each with a one-line comment.

Call it after ``get_cfg()`` and ``add_deeplab_config(cfg)`` (the poly LR schedule and DeepLab keys
are reused), then merge the YAML file and the command line. This module imports nothing from the
package, so any layer may read the keys.
"""

from detectron2.config import CfgNode as CN


def add_i2v_config(cfg):
    """Add the i2v keys to ``cfg`` in place.

    Input: a Detectron2 ``CfgNode`` (unfrozen) that already holds ``add_deeplab_config``'s keys.
    Output: None; new nodes ``MODEL.SWIN``, ``MODEL.VIDEO_SWIN``, ``MODEL.DEEPLAB``,
    ``MODEL.UPERNET``, ``MODEL.I2V`` (with ``ENTROPY`` and ``SELF_TRAINING``), ``INPUT.CLIP``,
    ``INPUT.VIDEO_AUG``, ``TEST.ADABN`` and a few keys under ``DATASETS``, ``SOLVER``, ``INPUT``
    and ``TEST`` are added.
    """
    # ---- data: two training streams (labeled, unlabeled) --------------------------------------
    # Registered datasets whose samples carry no label; they feed the adversarial losses, entropy
    # minimisation and self-training (and AdaBN's statistics).
    cfg.DATASETS.TRAIN_UNLABELED = ()
    # Batch composition of the labeled stream: empty = one stream over all of DATASETS.TRAIN with
    # SOLVER.IMS_PER_BATCH_LABELED samples per step; otherwise one entry per DATASETS.TRAIN
    # dataset, each its own stream with that many samples per step (e.g. (4, 4): 4 labeled images
    # + 4 labeled video frames, the paper's joint batches). Entries sum to IMS_PER_BATCH_LABELED.
    cfg.DATASETS.TRAIN_SAMPLES_PER_STEP = ()
    # Labeled samples per training batch, summed over all GPUs. (Detectron2's SOLVER.IMS_PER_BATCH
    # is not read; SOLVER.REFERENCE_WORLD_SIZE scales these two sizes, see I2VTrainer.)
    cfg.SOLVER.IMS_PER_BATCH_LABELED = 4
    # Unlabeled samples per training batch, summed over all GPUs (ignored when no loss uses them).
    cfg.SOLVER.IMS_PER_BATCH_UNLABELED = 4
    # Optimizer: "AdamW" (Swin/UperNet recipe) or "SGD" (DeepLab recipe).
    cfg.SOLVER.OPTIMIZER = "AdamW"
    # Clip the global gradient norm of the segmentation network and of the discriminators
    # separately (engine/grad_clip.py), instead of Detectron2's SOLVER.CLIP_GRADIENTS.
    cfg.SOLVER.GROUP_CLIP = CN()
    cfg.SOLVER.GROUP_CLIP.ENABLED = False
    # Largest L2 norm of each group's gradient.
    cfg.SOLVER.GROUP_CLIP.MAX_NORM = 1.0
    # Evaluate (and save as model_final.pth) an exponential moving average of the weights
    # (engine/weight_ema.py); the decay warms up as min(DECAY, 1 - 1 / (n + 1)).
    cfg.SOLVER.WEIGHT_EMA = CN()
    cfg.SOLVER.WEIGHT_EMA.ENABLED = False
    cfg.SOLVER.WEIGHT_EMA.DECAY = 0.999
    # After the average is put into the model, re-estimate its BatchNorm statistics on this many
    # batches of the labeled training data (averaged statistics fit none of the averaged
    # networks); 0 keeps the averaged statistics. Skipped under TEST.ADABN, which replaces them.
    cfg.SOLVER.WEIGHT_EMA.PRECISE_BN_ITERS = 100
    # Autocast dtype when SOLVER.AMP.ENABLED: "float16" (CUDA, with loss scaling) or "bfloat16"
    # (CUDA or CPU, no loss scaling); K-means, FFT, EMA and loss reductions stay float32.
    cfg.SOLVER.AMP.PRECISION = "float16"
    # Pad every training crop to INPUT.CROP.SIZE (ignore label in the padding) so that
    # discriminators with a fixed input size always see the same feature map size.
    cfg.INPUT.PAD_TO_CROP_SIZE = True

    # ---- data: the unlabeled video stream (i2v_plugin/data/video_stream.py) ------------------
    cfg.DATALOADER.VIDEO_STREAM = CN()
    # Read unlabeled datasets of encoded videos ("video_file" dicts: video folders, YTBB) a GOP at
    # a time, many frames per seek, instead of one seek per frame. Clips (INPUT.CLIP.LENGTH > 1)
    # and other datasets always use per-sample reads.
    cfg.DATALOADER.VIDEO_STREAM.ENABLED = True
    # Frames taken from each decoded window (one GOP): more is faster and more correlated.
    cfg.DATALOADER.VIDEO_STREAM.FRAMES_PER_WINDOW = 128
    # Windows (of different videos) interleaved per block: a batch of up to this many frames comes
    # from different videos. A worker holds FRAMES_PER_WINDOW x WINDOWS_PER_BLOCK mapped samples.
    cfg.DATALOADER.VIDEO_STREAM.WINDOWS_PER_BLOCK = 8
    # Decode frames scaled down to the largest training size (max INPUT.MIN_SIZE_TRAIN, at most
    # INPUT.MAX_SIZE_TRAIN), where the random resize starts from; False keeps the native size.
    cfg.DATALOADER.VIDEO_STREAM.DOWNSCALE = True
    # Stop training when more than this fraction of a loader worker's video reads failed (checked
    # from its 64th read on; 64 failures in a row stop it too).
    cfg.DATALOADER.VIDEO_STREAM.MAX_SKIP_FRACTION = 0.5

    # ---- clips (video backbones) ------------------------------------------------------------
    cfg.INPUT.CLIP = CN()
    # Frames per sample T: 1 = single images/frames; T > 1 = clips (a still image: T copies).
    cfg.INPUT.CLIP.LENGTH = 1
    # Distance, in native frames, between consecutive frames of a clip.
    cfg.INPUT.CLIP.STRIDE = 1
    # Training clips of a still image: each copy gets its own small camera motion (random zoom-in
    # of up to this fraction of the side, and pan), so a temporal discriminator cannot tell image
    # clips from video clips by their stillness alone. 0 keeps exact copies.
    cfg.INPUT.CLIP.STILL_MOTION = 0.05

    # ---- Swin backbone (timm) -----------------------------------------------------------------
    cfg.MODEL.SWIN = CN()
    # Patch size of the patch embedding (the "spatial" placement taps its output).
    cfg.MODEL.SWIN.PATCH_SIZE = 4
    # Channels of the patch embedding (Swin-T: 96).
    cfg.MODEL.SWIN.EMBED_DIM = 96
    # Blocks per stage (Swin-T: 2, 2, 6, 2).
    cfg.MODEL.SWIN.DEPTHS = [2, 2, 6, 2]
    # Attention heads per stage (Swin-T: 3, 6, 12, 24).
    cfg.MODEL.SWIN.NUM_HEADS = [3, 6, 12, 24]
    # Attention window size in tokens.
    cfg.MODEL.SWIN.WINDOW_SIZE = 7
    # Hidden size of the MLP blocks relative to the embedding size.
    cfg.MODEL.SWIN.MLP_RATIO = 4.0
    # Stochastic depth rate.
    cfg.MODEL.SWIN.DROP_PATH_RATE = 0.3
    # Stages returned to the head, among "patch_embed", "res2", "res3", "res4", "res5".
    cfg.MODEL.SWIN.OUT_FEATURES = ["res2", "res3", "res4", "res5"]

    # ---- VideoSwin backbone (torchvision SwinTransformer3d) ------------------------------------
    cfg.MODEL.VIDEO_SWIN = CN()
    # Patch size (T, H, W) of the 3D patch embedding (1, 4, 4: one token per frame and 4x4 pixels).
    cfg.MODEL.VIDEO_SWIN.PATCH_SIZE = [1, 4, 4]
    # Channels of the patch embedding (VideoSwin-T: 96).
    cfg.MODEL.VIDEO_SWIN.EMBED_DIM = 96
    # Blocks per stage (VideoSwin-T: 2, 2, 6, 2).
    cfg.MODEL.VIDEO_SWIN.DEPTHS = [2, 2, 6, 2]
    # Attention heads per stage (VideoSwin-T: 3, 6, 12, 24).
    cfg.MODEL.VIDEO_SWIN.NUM_HEADS = [3, 6, 12, 24]
    # Attention window (T, H, W) in tokens.
    cfg.MODEL.VIDEO_SWIN.WINDOW_SIZE = [4, 7, 7]
    # Hidden size of the MLP blocks relative to the embedding size.
    cfg.MODEL.VIDEO_SWIN.MLP_RATIO = 4.0
    # Stochastic depth rate (the last block's; it grows linearly over the blocks).
    cfg.MODEL.VIDEO_SWIN.DROP_PATH_RATE = 0.2
    # Stages returned to the head, among "patch_embed", "res2", "res3", "res4", "res5".
    cfg.MODEL.VIDEO_SWIN.OUT_FEATURES = ["res2", "res3", "res4", "res5"]

    # ---- DeepLabv3 (Detectron2's DeepLab ResNet + ASPP head) -----------------------------------
    cfg.MODEL.DEEPLAB = CN()
    # Add torchvision DeepLabHead's 3x3 conv-norm-ReLU between ASPP and the classifier.
    cfg.MODEL.DEEPLAB.HEAD_CONV = False
    # First block of a dilated stage: "stage" (Detectron2) or "previous" dilation (torchvision).
    cfg.MODEL.DEEPLAB.FIRST_BLOCK_DILATION = "stage"

    # ---- UperNet head ---------------------------------------------------------------------------
    cfg.MODEL.UPERNET = CN()
    # Output sizes of the pyramid pooling module on the deepest feature map.
    cfg.MODEL.UPERNET.POOL_SCALES = [1, 2, 3, 6]
    # Dropout before the classifier.
    cfg.MODEL.UPERNET.DROPOUT = 0.1

    # ---- the method -----------------------------------------------------------------------------
    cfg.MODEL.I2V = CN()
    # Training objectives the model builds, in this order (registered in OBJECTIVE_REGISTRY,
    # i2v_plugin/modeling/objectives); each builds nothing unless its own keys below enable it.
    # Append the name of your own registered objective to add it.
    cfg.MODEL.I2V.OBJECTIVES = [
        "EntropyMinimization",
        "PlacementAdversarial",
        "ClusteredAdversarial",
        "SelfTraining",
    ]
    # Where the general domain discriminators sit: any of "spatial" (after the patch embedding),
    # "global" (the encoder output) and the intermediate stages "res2".."res5".
    cfg.MODEL.I2V.PLACEMENTS = []
    # Loss weight of each placement, in the order of PLACEMENTS (empty: 1.0 for every placement).
    cfg.MODEL.I2V.PLACEMENT_WEIGHTS = []
    # Discriminator of each placement, in the order of PLACEMENTS (empty: "MLPDiscriminator"):
    # "MLPDiscriminator", "ConvDiscriminator" (LeakyReLU), "PaperConvDiscriminator" (the paper's
    # conv, FC, dropout, ReLU order) or "PatchGANDiscriminator".
    cfg.MODEL.I2V.DISCRIMINATORS = []
    # Hidden layer sizes of the MLP and pair discriminators.
    cfg.MODEL.I2V.DISC_HIDDEN_DIMS = [256, 256]
    # Learning-rate multiplier of every discriminator parameter.
    cfg.MODEL.I2V.DISC_LR_FACTOR = 1.0
    # BatchNorm in the unlabeled samples' forward pass (modeling/batchnorm.py): "batch" (their own
    # batch statistics, running statistics not updated: test-time statistics stay those of the
    # labeled data, so an adversarial gain cannot come from them), "frozen" (running statistics
    # used, eval mode; unstable under an adversarial loss on a BatchNorm backbone) or "update"
    # (train mode: the running statistics also see the unlabeled domain, the AdaBN effect).
    # Only BatchNorm layers are affected.
    cfg.MODEL.I2V.UNLABELED_BN = "batch"
    # Iterations over which a discriminator that stays constant or at chance (no better than the
    # constant predictor) is reported as collapsed (a warning, and "collapsed" in
    # final_results.json). 0 turns the check off.
    cfg.MODEL.I2V.HEALTH_WINDOW = 500

    cfg.MODEL.I2V.GRL = CN()
    # Gradient-reversal coefficient schedule: "constant" (MU) or "sigmoid" (DANN ramp LOW -> MU).
    cfg.MODEL.I2V.GRL.SCHEDULE = "constant"
    # Coefficient mu that scales the reversed gradient reaching the encoder (the ramp's end value).
    cfg.MODEL.I2V.GRL.MU = 0.1
    # Start value of the sigmoid ramp.
    cfg.MODEL.I2V.GRL.LOW = 0.0
    # Steepness gamma of the sigmoid ramp, 2 / (1 + exp(-gamma * p)) - 1 with p = iter / MAX_ITER.
    cfg.MODEL.I2V.GRL.GAMMA = 10.0

    cfg.MODEL.I2V.CLUSTER = CN()
    # Turn on the clustered adversarial loss (on the patch-embedding maps).
    cfg.MODEL.I2V.CLUSTER.ENABLED = False
    # Feature map the clustered loss taps (the paper: "spatial", the patch embedding).
    cfg.MODEL.I2V.CLUSTER.PLACEMENT = "spatial"
    # Number of K-means clusters K; 0 follows the paper's rule, slightly above the number of
    # inputs per step: (frames of the global batch, all processes) + 3 (11 for 4 + 4). The loss
    # clusters and pairs the maps of every process's samples (gathered), so K ignores --num-gpus.
    cfg.MODEL.I2V.CLUSTER.NUM_CLUSTERS = 0
    # Pairs drawn per contributing cluster for each kind (image-video, image-image, video-video).
    cfg.MODEL.I2V.CLUSTER.PAIRS_PER_KIND = 8
    # Which clusters give pairs: "balanced" (the paper's: clusters holding maps of two samples of
    # each domain, equal numbers of the three kinds) or "available" (every kind a cluster has).
    cfg.MODEL.I2V.CLUSTER.PAIRING = "balanced"
    # Weights of the pair BCE: "kinds" (image-video, image-image and video-video pairs count
    # equally: a plain mean with "balanced" pairing), "labels" (same- and cross-domain pairs count
    # equally: 2 : 1 : 1 over the kinds, the earlier default) or "none". The health figures use
    # the same weights. (The two maps of a pair always come from different samples.)
    cfg.MODEL.I2V.CLUSTER.WEIGHTING = "kinds"
    # Replaced by WEIGHTING ("labels" is the old True); an old config that sets it still loads.
    cfg.register_deprecated_key("MODEL.I2V.CLUSTER.BALANCE_LABELS")
    # Per-map normalisation before K-means: "none", "l2" or "standardize" (so that map magnitude
    # alone does not decide the clusters). The pair discriminator sees the maps unchanged.
    cfg.MODEL.I2V.CLUSTER.NORMALIZE = "none"
    # Input of the pair discriminator: "symmetric" (MLP on |a - b|, a * b), "siamese" (shared
    # embedding of each map first), "concat" (MLP on (a, b) averaged with (b, a)) or
    # "domain_product" (one MLP scores each map's domain; P(same) = p_a p_b + (1-p_a)(1-p_b);
    # its scorer also learns every map's domain on detached maps). "domain_product" is the
    # only form whose balanced accuracy leaves chance at mu 0 on the synthetic benchmark
    # (docs/RESULTS.md, "What benchmark version 4 can resolve").
    cfg.MODEL.I2V.CLUSTER.PAIR_INPUT = "domain_product"
    # K-means implementation: "torch" (on the model's device) or "sklearn" (reference).
    cfg.MODEL.I2V.CLUSTER.BACKEND = "torch"
    # Maximum Lloyd iterations per training step.
    cfg.MODEL.I2V.CLUSTER.MAX_ITER = 30
    # The pair discriminator (registered in DISCRIMINATOR_REGISTRY, built as
    # cls(in_features, hidden_dims=..., input_form=...)).
    cfg.MODEL.I2V.CLUSTER.DISCRIMINATOR = "PairDiscriminator"
    # Weight of the clustered loss.
    cfg.MODEL.I2V.CLUSTER.LOSS_WEIGHT = 1.0

    # ---- beyond the paper: baselines and self-training on the unlabeled videos ------------------
    # (i2v_plugin/data/augmentations.py, i2v_plugin/modeling/objectives/, engine/adabn.py)
    cfg.INPUT.VIDEO_AUG = CN()
    # Video-like degradations of "image"-domain training samples, sampled once per sample after
    # the crop: photometric (Detectron2's), blur, down-then-up resampling, noise, JPEG. Labels
    # and geometry are untouched. The source_only_aug baseline.
    cfg.INPUT.VIDEO_AUG.ENABLED = False
    # Probability of each degradation below (drawn independently).
    cfg.INPUT.VIDEO_AUG.PROB = 0.5
    # Brightness, contrast and saturation factors drawn in [1 - x, 1 + x]; 0 leaves one out.
    cfg.INPUT.VIDEO_AUG.BRIGHTNESS = 0.3
    cfg.INPUT.VIDEO_AUG.CONTRAST = 0.3
    cfg.INPUT.VIDEO_AUG.SATURATION = 0.3
    # Detectron2's RandomLighting scale (AlexNet PCA colour noise; ~0.12 x scale levels); 0 off.
    cfg.INPUT.VIDEO_AUG.LIGHTING = 0.0
    # Largest Gaussian blur sigma in pixels (drawn in [0.1 x, x]); 0 off.
    cfg.INPUT.VIDEO_AUG.BLUR_SIGMA = 1.5
    # Smallest factor of the down-then-up resampling (drawn in [x, 1]); 1 off.
    cfg.INPUT.VIDEO_AUG.DOWNSCALE = 0.5
    # Largest std of additive Gaussian noise, 0..255 units (drawn in [0, x]); 0 off.
    cfg.INPUT.VIDEO_AUG.NOISE_STD = 8.0
    # Lowest JPEG quality (drawn in [x, 95]); 0 off.
    cfg.INPUT.VIDEO_AUG.JPEG_QUALITY = 30

    # Temporal pairs: with k > 0 every unlabeled video sample also carries the frame k native
    # frames later ("pair_image", clamped to the video, same augmentation). Needed by
    # MODEL.I2V.SELF_TRAINING.TEMPORAL; 0 = single frames.
    cfg.INPUT.UNLABELED_PAIR_DISTANCE = 0

    cfg.MODEL.I2V.ENTROPY = CN()
    # ADVENT-style entropy minimisation on the unlabeled frames (their full forward pass).
    cfg.MODEL.I2V.ENTROPY.ENABLED = False
    # Weight of the mean per-pixel entropy (normalised by log C, so in [0, 1]).
    cfg.MODEL.I2V.ENTROPY.LOSS_WEIGHT = 0.01

    cfg.MODEL.I2V.SELF_TRAINING = CN()
    # Mean-teacher self-training (DAFormer-style): an EMA teacher labels weakly augmented
    # unlabeled frames, the student learns strongly augmented views from its confident pixels.
    cfg.MODEL.I2V.SELF_TRAINING.ENABLED = False
    # Weight of the pseudo-label cross entropy.
    cfg.MODEL.I2V.SELF_TRAINING.LOSS_WEIGHT = 1.0
    # EMA decay: teacher = a x teacher + (1 - a) x student, a = min(1 - 1 / (iter + 1), DECAY).
    cfg.MODEL.I2V.SELF_TRAINING.EMA_DECAY = 0.999
    # A pixel is a pseudo-label when the teacher's max softmax probability reaches this.
    cfg.MODEL.I2V.SELF_TRAINING.THRESHOLD = 0.968
    # Class-balanced selection (CBST): the most confident fraction of the pixels of every class
    # the teacher predicts is kept below THRESHOLD too, so rare classes get pseudo-labels; 0 off.
    cfg.MODEL.I2V.SELF_TRAINING.CLASS_PORTION = 0.0
    # Weight each frame's loss by its fraction of confident pixels (DAFormer's quality weight);
    # False gives every confident pixel weight 1.
    cfg.MODEL.I2V.SELF_TRAINING.QUALITY_WEIGHT = True
    # ClassMix: paste half of a labeled image's classes onto each unlabeled view (target: the
    # image label where pasted, the pseudo-label elsewhere).
    cfg.MODEL.I2V.SELF_TRAINING.CLASSMIX = False
    cfg.MODEL.I2V.SELF_TRAINING.STRONG = CN()
    # Strong view = weak view + colour jitter (brightness, contrast, saturation factors drawn in
    # [1 - x, 1 + x]), Gaussian blur and noise, on the tensor; geometry unchanged.
    cfg.MODEL.I2V.SELF_TRAINING.STRONG.JITTER = 0.2
    # Largest blur sigma in pixels (drawn in [0.1 x, x]), applied with probability BLUR_PROB.
    cfg.MODEL.I2V.SELF_TRAINING.STRONG.BLUR_SIGMA = 1.5
    cfg.MODEL.I2V.SELF_TRAINING.STRONG.BLUR_PROB = 0.5
    # Largest std of additive Gaussian noise, 0..255 units (drawn in [0, x]).
    cfg.MODEL.I2V.SELF_TRAINING.STRONG.NOISE_STD = 4.0
    cfg.MODEL.I2V.SELF_TRAINING.TEMPORAL = CN()
    # Temporal agreement (needs INPUT.UNLABELED_PAIR_DISTANCE > 0): the teacher labels both
    # frames of a pair; a pixel is kept only where it is confident on both and the classes agree
    # after aligning frame t to frame t + k; the student learns both strong frames.
    cfg.MODEL.I2V.SELF_TRAINING.TEMPORAL.ENABLED = False
    # Alignment of frame t to frame t + k: "phase" (a global shift by phase correlation of the
    # grayscale frames) or "none" (pixel to pixel: for a static camera).
    cfg.MODEL.I2V.SELF_TRAINING.TEMPORAL.ALIGN = "phase"
    # Largest shift phase correlation may find, as a fraction of the frame side.
    cfg.MODEL.I2V.SELF_TRAINING.TEMPORAL.MAX_SHIFT = 0.25

    # Images or clips per inference batch of the evaluation loader (frames of a sequence stay in
    # order; larger batches amortise per-call overhead on small inputs).
    cfg.TEST.IMS_PER_BATCH = 1

    cfg.TEST.ADABN = CN()
    # AdaBN: before the final evaluation (and the final checkpoint), re-estimate every BatchNorm
    # layer's running statistics on unlabeled target frames (DATASETS.TRAIN_UNLABELED, training
    # augmentations). Models without BatchNorm are left unchanged.
    cfg.TEST.ADABN.ENABLED = False
    # Batches of SOLVER.IMS_PER_BATCH_UNLABELED frames used for the estimate.
    cfg.TEST.ADABN.NUM_ITER = 50
