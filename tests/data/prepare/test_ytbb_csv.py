"""YouTube-BoundingBoxes annotation CSVs: the videos to fetch and the classes shown in each."""

import pytest

from i2v_plugin.data.prepare.ytbb_csv import read_ytbb_videos


def test_ytbb_csv_lists_videos_and_classes(tmp_path):
    csv_path = tmp_path / "yt_bb_detection_validation.csv"
    csv_path.write_text(
        "AAB6lO-XiKE,143000,0,person,0,present,0.256,0.292,0.133,0.563\n"
        "AAB6lO-XiKE,144000,0,person,0,present,0.25,0.3,0.1,0.6\n"
        "AAB6lO-XiKE,144000,22,dog,1,absent,-1,-1,-1,-1\n"
        "zzzb6lO-XiK,1000,22,dog,0,present,0.1,0.5,0.2,0.9\n"
        "zzzb6lO-XiK,2000,11,car,1,present,0.1,0.5,0.2,0.9\n"
        "qqqq,1000,5,cat,0,absent,-1,-1,-1,-1\n"
    )
    assert read_ytbb_videos(str(csv_path)) == {
        "AAB6lO-XiKE": ["person"],
        "zzzb6lO-XiK": ["car", "dog"],
    }
    assert list(read_ytbb_videos(str(csv_path), classes=["dog"])) == ["zzzb6lO-XiK"]
    assert read_ytbb_videos(str(csv_path), present_only=False)["AAB6lO-XiKE"] == ["dog", "person"]
    with open(csv_path, "a") as f:
        f.write("broken,row\n")
    with pytest.raises(ValueError, match=r"yt_bb_detection_validation\.csv:7: expected 10 columns"):
        read_ytbb_videos(str(csv_path))
