"""A user's own hand, from two files outside the checkout: `robot=/path/to/hand.yaml`.

A two-finger hand MJCF and its robot yaml are written into tmp_path; scripts/train.py trains one
iteration on env=reach with it (the yaml's relative `mjcf` resolves from the yaml's folder), and
a yaml or MJCF that misses what dexrl needs is one line naming the key and how to fix it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dexrl.frontdoor import ConfigError, compose, typed_configs

ROOT = Path(__file__).resolve().parents[2]
HAND_XML = """
<mujoco model="twofinger">
  <compiler angle="radian" autolimits="true"/>
  <default>
    <default class="twofinger">
      <joint type="hinge" axis="1 0 0" range="-0.3 1.5" damping="0.05" armature="0.002"/>
      <geom type="capsule" size="0.008" contype="1" conaffinity="0"/>
      <position kp="1" ctrlrange="-0.3 1.5" forcerange="-1 1"/>
    </default>
  </default>
  <worldbody>
    <body name="base" pos="0 0.05 0.2" childclass="twofinger">
      <geom name="base_geom" type="box" size="0.03 0.03 0.01" mass="0.2"/>
      <site name="palm" pos="0 0 0.01"/>
      <body name="left_1" pos="0.02 0.03 0">
        <joint name="left_1"/>
        <geom fromto="0 0 0 0 0.04 0" mass="0.02"/>
        <body name="left_2" pos="0 0.04 0">
          <joint name="left_2"/>
          <geom fromto="0 0 0 0 0.03 0" mass="0.01"/>
          <site name="left_tip" pos="0 0.03 0"/>
        </body>
      </body>
      <body name="right_1" pos="-0.02 0.03 0">
        <joint name="right_1"/>
        <geom fromto="0 0 0 0 0.04 0" mass="0.02"/>
        <body name="right_2" pos="0 0.04 0">
          <joint name="right_2"/>
          <geom fromto="0 0 0 0 0.03 0" mass="0.01"/>
          <site name="right_tip" pos="0 0.03 0"/>
        </body>
      </body>
    </body>
  </worldbody>
  <actuator>
    <position class="twofinger" joint="left_1"/>
    <position class="twofinger" joint="left_2"/>
    <position class="twofinger" joint="right_1"/>
    <position class="twofinger" joint="right_2"/>
  </actuator>
</mujoco>
"""
HAND_YAML = {
    "name": "twofinger",
    "mjcf": "twofinger.xml",  # beside the yaml
    "root_body": "base",
    "fingertip_sites": ["left_tip", "right_tip"],
    "palm_site": "palm",
    "ready_pose": {"left_1": 0.3, "right_1": 0.3},
}
TINY_TRAIN = ["train.total_env_steps=32", "train.num_workers=1", "train.envs_per_worker=4", "train.horizon=8",
              "train.learner_threads=1", "logger=none"]  # fmt: skip


def write_hand(folder: Path, **changes: object) -> Path:
    (folder / "twofinger.xml").write_text(HAND_XML)
    values = {k: v for k, v in {**HAND_YAML, **changes}.items() if v is not None}
    path = folder / "twofinger.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


def train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), *args], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)  # fmt: skip


def test_a_users_two_finger_hand_trains_through_scripts_train(tmp_path: Path) -> None:
    hand = write_hand(tmp_path)
    run_dir = tmp_path / "run"
    done = train("env=reach", f"robot={hand}", *TINY_TRAIN, f"hydra.run.dir={run_dir}")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "it 1 |" in done.stdout
    assert (run_dir / "checkpoints" / "latest" / "checkpoint.pt").is_file()
    recorded = yaml.safe_load((run_dir / "config.resolved.yaml").read_text())["env"]["robot"]
    assert recorded["name"] == "twofinger" and recorded["mjcf"] == str(tmp_path / "twofinger.xml")


def test_a_yaml_missing_a_required_key_is_one_line_naming_it(tmp_path: Path) -> None:
    hand = write_hand(tmp_path, root_body=None)
    done = train("env=reach", f"robot={hand}", *TINY_TRAIN, f"hydra.run.dir={tmp_path / 'run'}")
    assert done.returncode == 2 and not (tmp_path / "run").exists()
    assert done.stderr.count("\n") == 1, done.stderr
    assert "robot 'twofinger' has no root_body (key: env.robot.root_body): set it to the body" in done.stderr


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"fingertip_sites": None}, r"has no fingertip_sites \(key: env.robot.fingertip_sites\)"),
        ({"palm_site": None}, r"has no palm_site \(key: env.robot.palm_site\)"),
        ({"mjcf": None}, r"has no mjcf \(key: env.robot.mjcf\): set it to the hand's MJCF file"),
        ({"mjcf": "nowhere.xml"}, r"its MJCF \(robot.mjcf: nowhere\.xml\) is not a file"),
        ({"fingertip_sites": ["left_tip", "middle_tip"]},
         r"twofinger.xml has no site 'middle_tip' \(robot.fingertip_sites\); sites: palm, left_tip, right_tip"),
        ({"root_body": "wrist"}, r"has no body 'wrist' \(robot.root_body\); bodies: .*base"),
        ({"touch_sensors": ["left_touch"]}, r"has no sensor 'left_touch' \(robot.touch_sensors\)"),
        ({"ready_pose": {"thumb_1": 0.2}}, r"robot.ready_pose names unknown joints \['thumb_1'\]"),
    ],
)
def test_what_the_hand_misses_is_named_before_anything_starts(tmp_path: Path, changes: dict, message: str) -> None:
    hand = write_hand(tmp_path, **changes)
    with pytest.raises(ConfigError, match=message):
        typed_configs(compose(["env=reach", f"robot={hand}"], "train").plain())


def test_a_robot_file_that_does_not_exist_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"robot file .*nope\.yaml not found \(key: robot\)"):
        compose(["env=reach", f"robot={tmp_path / 'nope.yaml'}"], "train")
