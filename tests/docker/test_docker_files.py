"""Static checks of docker/ (no Docker engine here): what `docker build` and `ray up` /
`kubectl apply` would trip over, checked from the files themselves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash"}


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        keyword, _, args = pending.strip().partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


def exec_form_problems(text: str) -> list[str]:
    """CMD/ENTRYPOINT/RUN in exec form (a JSON array) that use $VARIABLES outside a shell:
    Docker passes them literally (it expands variables only in shell form)."""
    problems = []
    for keyword, args in instructions(text):
        if keyword not in ("CMD", "ENTRYPOINT", "RUN") or not args.startswith("["):
            continue
        try:
            argv = json.loads(args)
        except json.JSONDecodeError:
            problems.append(f"{keyword} {args}: not valid JSON, so Docker runs it in shell form by accident")
            continue
        runs_shell = len(argv) >= 2 and argv[0] in SHELLS and argv[1] in ("-c", "-lc")
        if not runs_shell and any("$" in str(a) for a in argv):
            problems.append(f"{keyword} {args}: exec form does not expand variables; use "
                            f'["sh", "-c", "..."]')  # fmt: skip
    return problems


def dockerfiles() -> list[Path]:
    return sorted(DOCKER.glob("Dockerfile.*"))


def built_images() -> dict[str, Path]:
    """Image name -> Dockerfile, from the build commands in docker/README.md."""
    text = (DOCKER / "README.md").read_text()
    pairs = re.findall(r"docker build -f (docker/Dockerfile\.\w+) -t ([\w.-]+) \.", text)
    return {name: ROOT / path for path, name in pairs}


def test_exec_form_check_catches_the_unexpanded_variable() -> None:
    """The check can fail: the worker image's former command, and friends."""
    bad = 'FROM x\nCMD ["ray", "start", "--address=${RAY_HEAD}:6379", "--block"]\n'
    assert len(exec_form_problems(bad)) == 1
    assert exec_form_problems('FROM x\nENTRYPOINT ["echo", "$HOME"]\n')
    assert exec_form_problems("FROM x\nCMD ['ray', 'start']\n")  # single quotes: not JSON
    assert not exec_form_problems('FROM x\nCMD ["sh", "-c", "exec ray start --address=${RAY_HEAD}:6379"]\n')
    assert not exec_form_problems("FROM x\nCMD ray start --address=${RAY_HEAD}:6379\n")  # shell form


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: p.name)
def test_dockerfile_commands_copies_and_label(dockerfile: Path) -> None:
    text = dockerfile.read_text()
    assert exec_form_problems(text) == []
    steps = instructions(text)
    assert steps[0][0] == "FROM"
    for keyword, args in steps:
        if keyword == "COPY":
            *sources, _dest = shlex.split(args)
            for source in sources:  # the build context is the repository root
                assert (ROOT / source).exists(), f"{dockerfile.name}: COPY {source} does not exist"
    cmd = [json.loads(a) for k, a in steps if k == "CMD"]
    assert len(cmd) == 1, "one CMD per image"
    for script in re.findall(r"scripts/\w+\.py", " ".join(cmd[0])):
        assert (ROOT / script).is_file(), f"{dockerfile.name} runs {script}, which does not exist"
    assert "ray start" in " ".join(cmd[0])


def test_worker_command_expands_the_head_address() -> None:
    cmd = json.loads(dict(instructions((DOCKER / "Dockerfile.worker").read_text()))["CMD"])
    assert cmd[:2] == ["sh", "-c"] and "${RAY_HEAD" in cmd[2] and "--block" in cmd[2]


def test_images_named_by_the_cluster_files_are_the_ones_built_here() -> None:
    images = built_images()
    assert set(images) == {"dexrl-learner", "dexrl-worker"}
    for name, dockerfile in images.items():
        label = dict(instructions(dockerfile.read_text()))["LABEL"]
        assert f'org.opencontainers.image.title="{name}"' in label
    launcher = yaml.safe_load((DOCKER / "cluster.yaml").read_text())
    assert launcher["docker"]["head_image"] == "dexrl-learner"
    assert launcher["docker"]["worker_image"] == "dexrl-worker"
    assert any("--head" in c for c in launcher["head_start_ray_commands"])
    assert any("$RAY_HEAD_IP:6379" in c for c in launcher["worker_start_ray_commands"])


def test_kuberay_raycluster_is_well_formed() -> None:
    cluster = yaml.safe_load((DOCKER / "kuberay.yaml").read_text())
    assert (cluster["apiVersion"], cluster["kind"]) == ("ray.io/v1", "RayCluster")
    spec = cluster["spec"]
    groups = [spec["headGroupSpec"], *spec["workerGroupSpecs"]]
    images = [c["image"].split(":")[0] for g in groups for c in g["template"]["spec"]["containers"]]
    assert images == ["dexrl-learner", "dexrl-worker"]
    assert set(images) <= set(built_images())
    for group in groups:  # KubeRay's rayStartParams is map[string]string: numbers are refused
        assert all(isinstance(v, str) for v in group["rayStartParams"].values()), group["rayStartParams"]
    head = spec["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert head["resources"]["limits"]["nvidia.com/gpu"] == 1
    workers = spec["workerGroupSpecs"][0]
    assert workers["minReplicas"] <= workers["replicas"] <= workers["maxReplicas"]
    assert isinstance(spec["rayVersion"], str)
