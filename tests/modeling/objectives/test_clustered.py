"""The clustered objective's K: it follows the batch as the paper's rule says (inputs per step
+ 3) unless set, counting only the streams that are read, every frame of a clip, and the global
batch whatever the number of processes."""

from i2v_plugin.engine.setup import build_cfg
from i2v_plugin.modeling.objectives import num_clusters_for


def k_of(config, *opts):
    return num_clusters_for(build_cfg(config, list(opts)))


def test_k_is_slightly_above_the_inputs_per_step():
    assert k_of("configs/synthetic/swin_clustered.yaml") == 8 + 8 + 3
    paper = ("MODEL.I2V.CLUSTER.NUM_CLUSTERS", "0")
    assert k_of("configs/swin_clustered.yaml", *paper) == 4 + 4 + 3  # the paper's 11


def test_unread_streams_do_not_count_and_clips_count_every_frame():
    assert k_of("configs/synthetic/swin_joint_labeled_clustered.yaml") == 16 + 3
    clips = ("MODEL.I2V.CLUSTER.ENABLED", "True", "INPUT.CLIP.LENGTH", "2")
    assert k_of("configs/synthetic/video_swin_spatial.yaml", *clips) == (8 + 8) * 2 + 3


def test_an_explicit_k_wins():
    assert k_of("configs/synthetic/swin_clustered.yaml", "MODEL.I2V.CLUSTER.NUM_CLUSTERS", "5") == 5


def test_k_counts_the_global_batch_whatever_the_number_of_processes(monkeypatch):
    # The batch sizes are totals over all processes and the loss clusters the gathered batch, so
    # the paper's 4 + 4 gives K = 11 on one process or four.
    from detectron2.utils import comm

    paper = ("MODEL.I2V.CLUSTER.NUM_CLUSTERS", "0")
    for world in (1, 2, 4):
        monkeypatch.setattr(comm, "get_world_size", lambda world=world: world)
        assert k_of("configs/swin_clustered.yaml", *paper) == 4 + 4 + 3
        clips = ("MODEL.I2V.CLUSTER.ENABLED", "True", "INPUT.CLIP.LENGTH", "2")
        assert k_of("configs/synthetic/video_swin_spatial.yaml", *clips) == (8 + 8) * 2 + 3
