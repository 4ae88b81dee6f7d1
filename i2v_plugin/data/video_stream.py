"""The fast unlabeled frame stream: frames at random times of encoded videos, many per decoded
group of pictures (GOP), exactly resumable.

Why. In H.264 with long GOPs (x264 puts a keyframe every 250 frames) one frame at a random time
costs a keyframe seek plus decoding up to a whole GOP: ``read_frames(path, [i])`` gives about 3
frames/s of 720p on one core. Here every decoded GOP gives many frames (``iter_gop_frames``:
one seek, packets of unchosen non-reference frames skipped, only chosen frames converted to RGB).

Layout. Stream positions are the global sample indices, ``step x total batch size + j``, as in
``samplers.ResumableTrainingSampler``. They are cut into blocks of ``steps_per_block`` steps
(``block_size`` positions). Block ``b`` reads ``V = windows_per_block`` windows; position
``q`` of the block (``q = position - b x block_size``) is frame ``q // V`` of window ``q % V``.
So windows take turns: any V consecutive positions of a block come from V different windows,
which read V different videos when the pool holds at least V videos. A batch of ``B <= V``
samples therefore comes from B different videos, and over any run of n consecutive batches of a
block no video gives more than ``ceil(n x B / V)`` of the ``n x B`` samples (one more where the
run crosses into the next block, which may hold the same video when an epoch ends there).

Sampling. Videos are drawn like ``TrainingSampler`` draws samples: one seeded permutation of
the pool per epoch, cut into chunks of V videos, one chunk per block (the epoch's last chunk is
completed with the epoch's first videos). A window then draws a time step ``k`` uniformly among
the video's steps at ``sample_fps`` (30 fps for video folders; native frames otherwise, see
``mapper.sample_frame_index``), demuxes the GOP holding the frame shown at ``k``, and gives each
of its frames a time step drawn uniformly among the steps that show a frame of that GOP (a
random permutation of them, cycled when the window has more frames than the GOP has steps).
Uniform in time: a GOP is hit with probability (its steps) / (the video's steps), and each frame
is uniform within it, so every emitted frame is a uniform time step of its video; videos are
drawn uniformly, as on the per-sample path. The price is correlation: a window's frames come
from a few seconds of one video, spread over ``steps_per_block`` steps.

Resume and workers. Every draw is a pure function of ``(seed, block, window, attempt)`` and
every augmentation of ``(seed, position)`` (the RNGs are seeded as in ``SeededMapDataset``). A
run resumed at step s regenerates the block holding s and skips what was consumed. Loader
worker w of W computes blocks w, w+W, ... of its process; each batch carries its step and
``VideoTrainStream`` puts batches back in step order in the main process, so the stream does not
depend on ``NUM_WORKERS``. With several processes, rank r takes positions r, r + R, ... (as
``ResumableTrainingSampler``) and decodes only the windows they use; the union over ranks is the
same stream whatever the number of processes.

Broken files. A window whose video cannot be read (unopenable, or the chosen time lies beyond
the data of a truncated file, or a frame does not decode) is drawn again, from a random video of
the pool; the file is reported once (``skips.report_skip``), and each sample of the window
carries the number of failed draws before it (``skips.SKIPPED_KEY``), so the metric counts the
samples the failed draws would have given. When more than ``max_skip_fraction`` of a
worker's draws failed (checked once it made ``min_checked_draws``), or that many failed in a
row, the stream stops with an error: a mostly unreadable pool is not a normal run.

Cost. A worker holds one block of mapped samples (``block_size / world size``; 1024 with the
defaults and batch 4, about 150 MB at 224 x 224) and decodes about one GOP per window. On 720p
H.264 with GOPs of 250 frames, the defaults (128 frames per window, 8 windows) give about 130
mapped frames per CPU second of a worker, against 5 to 6 for one seek per frame
(``tools/benchmark.py --suite data``). Per frame: about 40 % decoding, 20 % scaling and RGB
conversion, 40 % the mapper's augmentations. With W workers the main process holds up to about
W blocks of batches that arrived before their step.
"""

import random
from dataclasses import dataclass

import numpy as np
import torch
from detectron2.utils import comm
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from .skips import SKIPPED_KEY, report_skip
from .video import VideoReadError, iter_gop_frames

# Tags that keep the seeded RNG streams apart.
_ORDER_STREAM, _WINDOW_STREAM = 1, 2


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in key]))


def seed_global_rngs(seed: int, position: int) -> None:
    """Seed Python, NumPy and torch from ``(seed, position)``: the mapper's augmentations of a
    stream position (the same seeding as ``samplers.SeededMapDataset``)."""
    rng_seed = int(np.random.SeedSequence([int(seed), int(position)]).generate_state(1)[0])
    random.seed(rng_seed)
    np.random.seed(rng_seed)
    torch.default_generator.manual_seed(rng_seed)  # the CPU generator only: CUDA's is the model's


@dataclass(frozen=True)
class TimeGrid:
    """The time steps of one video at the sampling rate, and the native frame each one shows.

    With ``sample_fps`` (e.g. 30 for video folders) step k shows frame ``int(k x fps /
    sample_fps)``; without it steps are native frames. Same rule as ``mapper.sample_frame_index``.
    """

    num_frames: int
    fps: float = 1.0
    sample_fps: float = 1.0

    @classmethod
    def of(cls, d: dict) -> "TimeGrid":
        if "sample_fps" in d:
            return cls(int(d["num_frames"]), float(d["fps"]), float(d["sample_fps"]))
        return cls(int(d["num_frames"]))

    @property
    def num_steps(self) -> int:
        return max(1, int(self.num_frames / self.fps * self.sample_fps))

    def frame_at(self, step: int) -> int:
        return min(int(step * self.fps / self.sample_fps), self.num_frames - 1)

    def steps_showing(self, frames) -> list[int]:
        """The steps (sorted) that show one of ``frames`` (sorted native indices)."""
        wanted = set(frames)
        step = max(0, int(frames[0] * self.sample_fps / self.fps) - 1)
        steps = []
        while step < self.num_steps and (frame := self.frame_at(step)) <= frames[-1]:
            if frame in wanted:
                steps.append(step)
            step += 1
        return steps


def window_frames(grid: TimeGrid, gop: list[int], rng: np.random.Generator, count: int):
    """The frames of a window's ``count`` slots: time steps showing frames of ``gop``, a random
    permutation of them cycled over the slots, so each slot is uniform over the GOP's steps."""
    steps = grid.steps_showing(gop)
    order = rng.permutation(len(steps))
    return [grid.frame_at(steps[order[i % len(steps)]]) for i in range(count)]


class VideoFrameStream(IterableDataset):
    """Yields ``(step, batch)`` forever: this process's mapped samples of each training step,
    for the steps of the blocks this loader worker computes (see the module docstring).

    Each sample is ``mapper(dict)`` for the video's dataset dict plus "frame_index" and
    "video_frame" (the decoded RGB frame), and carries ``SKIPPED_KEY``.
    """

    def __init__(
        self,
        dicts: list[dict],
        mapper,
        total_batch_size: int,
        seed: int,
        frames_per_window: int = 128,
        windows_per_block: int = 8,
        short_edge: int = 0,
        long_edge: int = 0,
        max_skip_fraction: float = 0.5,
        min_checked_draws: int = 64,
        read_gop=iter_gop_frames,
    ):
        """
        Args:
            dicts: one dict per video: "video_file", "num_frames" (+ "fps" and "sample_fps" to
                sample time steps of that rate).
            mapper: dict -> model input dict; it receives the decoded frame as "video_frame".
            total_batch_size: samples per step summed over all processes.
            seed: stream seed (the same on every process).
            frames_per_window: frames per decoded window, about (the block size is rounded to
                whole steps).
            windows_per_block: windows interleaved in a block.
            short_edge, long_edge: frames are decoded scaled down to at most these edges (e.g.
                the largest training size, so the mapper's resize starts from there); 0: native.
            max_skip_fraction: stop when more than this fraction of the draws failed.
            min_checked_draws: draws made before that fraction is checked; as many failures in
                a row also stop the stream.
            read_gop: ``iter_gop_frames`` or a stand-in with its signature (tests).
        """
        if not dicts:
            raise ValueError("The video stream needs at least one video")
        if frames_per_window < 1 or windows_per_block < 1:
            raise ValueError(
                f"frames_per_window and windows_per_block must be >= 1, got {frames_per_window} "
                f"and {windows_per_block}"
            )
        self.dicts = dicts
        self.mapper = mapper
        self.seed = int(seed)
        self.rank, self.world_size = comm.get_rank(), comm.get_world_size()
        if total_batch_size % self.world_size:
            raise ValueError(
                f"The unlabeled batch size {total_batch_size} must be a multiple of the number of "
                f"processes {self.world_size}"
            )
        self.total_batch_size = total_batch_size
        self.batch_size = total_batch_size // self.world_size
        self.windows = windows_per_block
        self.steps_per_block = max(
            1, round(windows_per_block * frames_per_window / total_batch_size)
        )
        self.block_size = self.steps_per_block * total_batch_size
        self.bounds = (int(short_edge), int(long_edge))
        self.max_skip_fraction = float(max_skip_fraction)
        self.min_checked_draws = int(min_checked_draws)
        self.read_gop = read_gop
        self.start_step = 0
        self._permutation_cache: tuple[int, np.ndarray] | None = None
        self._draws = self._failures = self._failures_in_a_row = 0

    # ---- the layout ------------------------------------------------------------------------

    def positions(self, step: int) -> list[int]:
        """This process's stream positions at ``step``."""
        first = step * self.total_batch_size + self.rank
        return [first + self.world_size * j for j in range(self.batch_size)]

    def block_videos(self, block: int) -> list[int]:
        """Indices (into ``dicts``) of the videos of the block's windows."""
        num_videos = len(self.dicts)
        blocks_per_epoch = -(-num_videos // self.windows)
        epoch, chunk = divmod(block, blocks_per_epoch)
        if self._permutation_cache is None or self._permutation_cache[0] != epoch:
            order = _rng(self.seed, _ORDER_STREAM, epoch).permutation(num_videos)
            self._permutation_cache = (epoch, order)
        order = self._permutation_cache[1]
        return [int(order[(chunk * self.windows + w) % num_videos]) for w in range(self.windows)]

    # ---- iteration -------------------------------------------------------------------------

    def __iter__(self):
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        block = self.start_step // self.steps_per_block + worker
        while True:
            yield from self.block_batches(block, max(self.start_step, block * self.steps_per_block))
            block += workers

    def block_batches(self, block: int, first_step: int):
        """``(step, batch)`` for the steps of ``block`` from ``first_step`` on."""
        steps = range(first_step, (block + 1) * self.steps_per_block)
        start = block * self.block_size
        needed: dict[int, list[int]] = {}  # window -> positions it feeds
        for step in steps:
            for position in self.positions(step):
                needed.setdefault((position - start) % self.windows, []).append(position)
        videos = self.block_videos(block)
        samples: dict[int, dict] = {}
        # The main process (NUM_WORKERS 0) maps here too: leave its RNGs as they were, so the
        # model's randomness at this step does not depend on whether a block was computed in it.
        states = random.getstate(), np.random.get_state(), torch.get_rng_state()
        try:
            for window in sorted(needed):
                samples.update(self._read_window(block, window, videos[window], needed[window]))
        finally:
            random.setstate(states[0])
            np.random.set_state(states[1])
            torch.set_rng_state(states[2])
        for step in steps:
            yield step, [samples.pop(p) for p in self.positions(step)]

    def _read_window(self, block: int, window: int, video: int, positions: list[int]) -> dict:
        """Mapped samples {position: sample} of one window; failed draws are drawn again."""
        start = block * self.block_size
        num_slots = len(range(window, self.block_size, self.windows))
        attempt = 0
        while True:
            rng = _rng(self.seed, _WINDOW_STREAM, block, window, attempt)
            if attempt:
                video = int(rng.integers(len(self.dicts)))
            d = self.dicts[video]
            grid = TimeGrid.of(d)
            anchor = grid.frame_at(int(rng.integers(grid.num_steps)))
            slots: list[int] = []

            def choose(gop, grid=grid, rng=rng, slots=slots):
                slots.extend(window_frames(grid, gop, rng, num_slots))
                return {slots[(p - start) // self.windows] for p in positions}

            try:
                samples = {}
                for index, frame in self.read_gop(d["video_file"], anchor, choose, *self.bounds):
                    for p in positions:
                        if slots[(p - start) // self.windows] == index:
                            samples[p] = self._map(p, d, index, frame, attempt)
            except VideoReadError as err:
                self._count_draw(err, anchor)
                attempt += 1
                continue
            self._count_draw(None, anchor)
            return samples

    def _map(self, position: int, d: dict, index: int, frame: np.ndarray, skipped: int) -> dict:
        seed_global_rngs(self.seed, position)
        sample = self.mapper({**d, "frame_index": index, "video_frame": frame})
        if sample is None:
            raise RuntimeError(f"The mapper dropped a decoded frame of {d['video_file']}")
        sample[SKIPPED_KEY] = skipped
        return sample

    def _count_draw(self, err: VideoReadError | None, frame: int) -> None:
        self._draws += 1
        if err is None:
            self._failures_in_a_row = 0
            return
        self._failures += 1
        self._failures_in_a_row += 1
        report_skip(err.path, frame, err.reason)
        too_many = (
            self._draws >= self.min_checked_draws
            and self._failures > self.max_skip_fraction * self._draws
        )
        if too_many or self._failures_in_a_row >= self.min_checked_draws:
            raise RuntimeError(
                f"{self._failures} of the {self._draws} video reads of this loader worker failed "
                f"({self._failures_in_a_row} in a row; the limit is a fraction of "
                f"{self.max_skip_fraction}, DATALOADER.VIDEO_STREAM.MAX_SKIP_FRACTION): the "
                f"video pool is mostly unreadable. Last failure: {err}"
            )


def _as_is(item):
    return item


class VideoTrainStream:
    """``VideoFrameStream`` behind a DataLoader, with ``TrainStream``'s interface: an infinite,
    resumable iterator of this process's batches (lists of mapped dicts) in step order."""

    def __init__(self, dataset: VideoFrameStream, num_workers: int):
        """
        Args:
            dataset: the stream.
            num_workers: loader worker processes (0: decode in the main process).
        """
        self.dataset = dataset
        self.total_batch_size = dataset.total_batch_size
        # The loader's own generator: starting it must not draw from the global RNG (see
        # loader.TrainStream).
        self.loader = DataLoader(
            dataset,
            batch_size=None,
            num_workers=num_workers,
            collate_fn=_as_is,
            generator=torch.Generator().manual_seed(dataset.seed),
        )

    def set_start_iter(self, start_iter: int) -> None:
        """Continue the stream as if ``start_iter`` steps had been consumed already."""
        self.dataset.start_step = start_iter

    def __iter__(self):
        # Workers deliver their blocks' batches in turns; hold early ones until their step.
        step = self.dataset.start_step
        pending: dict[int, list[dict]] = {}
        for batch_step, batch in self.loader:
            pending[batch_step] = batch
            while step in pending:
                yield pending.pop(step)
                step += 1
