#!/usr/bin/env python
"""The RL troubleshooting checklist, automated: `python scripts/doctor.py env=reach`.

    python scripts/doctor.py env=reach                      # groups runs, overfit, signs, env
    python scripts/doctor.py env=cube_rotate model=lstm --only signs
    python scripts/doctor.py env=reach train.envs_per_worker=16 --json
    python scripts/doctor.py experiment=ladder              # the ladder: reach -> ... -> face_turn
    python scripts/doctor.py experiment=ladder ladder_dir=runs/ladder/<date>   # resume it

Any train config override applies (the doctor examines the run that command line would start).
Prints a table (check, pass/warn/fail, measured, expected, hint); exits 1 on any failure, 2 on a
config error. `--json` prints one JSON object as the last line; `--only <group>` (runs, overfit,
signs, env, ladder or 1-5, comma-separated) runs those groups only.
"""

from __future__ import annotations

import sys

from dexrl.frontdoor import ConfigError, compose, exit_on_error, typed_configs

LADDER = "experiment=ladder"


def split_flags(argv: list[str]) -> tuple[list[str], str | None, bool]:
    """(overrides, --only value, --json) from the command line."""
    rest, only, as_json = [], None, False
    args = iter(argv)
    for arg in args:
        if arg == "--json":
            as_json = True
        elif arg == "--only":
            only = next(args, None)
            if only is None:
                raise ConfigError("--only needs a group: runs, overfit, signs, env, ladder (or 1-5)")
        elif arg.startswith("--only="):
            only = arg.split("=", 1)[1]
        elif arg.startswith("--"):
            raise ConfigError(f"unknown option {arg}; options: --only <group>, --json")
        else:
            rest.append(arg)
    return rest, only, as_json


def emit(checks: list, as_json: bool, **extra: object) -> int:  # type: ignore[type-arg]
    from dexrl.doctor.report import failed, table, to_json

    print(table(checks))
    bad = failed(checks)
    print(f"[doctor] {len(checks)} checks: {len(bad)} failed" + (f" ({', '.join(c.name for c in bad)})" if bad else ""))
    if as_json:
        print(to_json(checks, **extra))
    return 1 if bad else 0


@exit_on_error
def main(argv: list[str]) -> None:
    overrides, only, as_json = split_flags(argv)
    from dexrl.doctor.run import resolve_groups, run_doctor

    try:
        groups = resolve_groups(only)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if LADDER in overrides or groups == ("ladder",):
        from dexrl.doctor.ladder import ladder_main

        sys.exit(ladder_main([o for o in overrides if o != LADDER], as_json, emit))
    if "ladder" in groups:
        raise ConfigError("the ladder is its own long command: python scripts/doctor.py experiment=ladder")
    composed = compose(overrides, "doctor")
    configs = typed_configs(composed.plain())
    if configs.algo_name != "ppo":
        raise ConfigError(f"the doctor examines dexrl's PPO; algo={configs.algo_name} is not it (key: algo)")
    from dexrl.doctor.common import DoctorSetup

    setup = DoctorSetup(configs.env, configs.model, configs.algo, configs.train, configs.adr,
                        configs.ray, configs.seed)  # fmt: skip
    checks = run_doctor(setup, groups, progress=lambda msg: print(msg, file=sys.stderr))
    sys.exit(emit(checks, as_json, env=configs.env.name, groups=list(groups)))


if __name__ == "__main__":
    main(sys.argv[1:])
