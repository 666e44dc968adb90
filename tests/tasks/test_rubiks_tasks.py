"""face_turn and cube_solve in the hand: gymnasium API, goals, successes, solving, re-planning.

The "oracle" here moves the cube kinematically (the hand holds still): a flip sets the cube's
orientation to the goal about its centre and a face turn sets the top-layer angle. Both leave the
world geometry unchanged (identical cubelets), so the hand's contacts do not care, and every
success must come out of the task's own step(): commit, re-bind, success test, next subgoal.
"""

from __future__ import annotations

import gymnasium
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from dexrl.config import load_env_config
from dexrl.solver import (
    CubeOrientation,
    CubeState,
    Move,
    RotateSubgoal,
    count_subgoals,
    parse_moves,
    plan_subgoals,
    solve,
)
from dexrl.tasks.registry import make_task, register_gymnasium_envs
from dexrl.tasks.rotations import rotation_distance
from dexrl.tasks.rubiks import FLIP, ROTATE, FaceTurnTask
from dexrl.tasks.rubiks_cube import FACE_RGBA, FAIR_SCRAMBLE, RubiksSettings
from dexrl.tasks.rubiks_goals import aligned_pose
from dexrl.tasks.rubiks_solve import CubeSolveTask

BLOCK_OBS_DIM = 114  # cube_rotate's policy observation: 30 of the task + 84 of the hand (joints, targets, EMA, action)


def solve_task(settings: RubiksSettings, seed: int = 0) -> CubeSolveTask:
    cfg = load_env_config("cube_solve")
    return CubeSolveTask(cfg, num_envs=1, seed=seed, autoreset=False, settings=settings)


def oracle_step(task: FaceTurnTask) -> dict:
    """Carry out env 0's current goal kinematically, then one env step with a still hand."""
    if task.goal_type[0] == ROTATE:
        task.turn_face(0, float(task.face_target[0]))
    else:
        task.set_cube_orientation(0, task.goal_quat[0])
    r = task.step(np.zeros((1, task.action_dim)))
    return {
        "reward": r.reward[0],
        "terminated": r.terminated[0],
        "truncated": r.truncated[0],
        **{k: v[0] for k, v in r.info.items()},
    }


def up_sticker_face(task: FaceTurnTask, i: int = 0) -> str:
    """Face letter whose colour the sticker on top of env i's cube shows (read from the model:
    the centre sticker nearest the world-up point of the cube; centres never move)."""
    m, d = task.sim.models[i], task.sim.datas[i]
    mujoco.mj_forward(m, d)
    top = d.xpos[m.body("cube").id] + [0.0, 0.0, m.geom("cube_geom").size[0]]
    stickers = [g for g in range(m.ngeom) if m.geom(g).name.startswith("sticker_")]
    g = min(stickers, key=lambda g: float(np.linalg.norm(d.geom_xpos[g] - top)))
    assert np.linalg.norm(d.geom_xpos[g] - top) < 0.002, "no sticker on top: not face-up"
    rgba = np.asarray(FACE_RGBA, dtype=np.float32)
    return "URFDLB"[int(np.argmin(np.abs(rgba - m.geom_rgba[g]).sum(axis=1)))]


# ----------------------------------------------------------------- API
@pytest.mark.parametrize("gym_id", ["dexrl/FaceTurn-v0", "dexrl/CubeSolve-v0"])
def test_gymnasium_env_checker(gym_id: str) -> None:
    register_gymnasium_envs()
    env = gymnasium.make(gym_id)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert obs["policy"].shape == (BLOCK_OBS_DIM + 4,)
    env.close()


def test_observation_layout() -> None:
    task = make_task("face_turn", num_envs=2, seed=1)
    obs, critic = task.reset()
    block = make_task("cube_rotate", num_envs=1, seed=1)
    assert task.obs_dim == block.obs_dim + 4
    # + policy extras (4), hinge qpos and qvel (2), privileged hinge velocity and alignment (2)
    assert task.critic_obs_dim == block.critic_obs_dim + 4 + 2 + 2
    hinge = task.cube_ids.hinge_qpos
    task.turn_face(1, 0.3)
    obs, _ = task.observations()
    names = [p.name for p in task.policy_obs_parts()]
    face = sum(p.size for p in task.policy_obs_parts()[: names.index("face")])
    np.testing.assert_allclose(obs[1, face], task.qpos[1, hinge], atol=1e-6)  # face angle
    assert set(obs[:, face + 2 : face + 4].sum(axis=1)) == {1.0}  # one-hot subgoal type
    # The observed cube orientation is the solver frame's: it equals the goal after a flip.
    for i in range(2):
        if task.goal_type[i] == FLIP:
            task.set_cube_orientation(i, task.goal_quat[i])
            assert rotation_distance(task.cube_quat()[i], task.goal_quat[i]) < 1e-6


def test_face_friction_and_detent_are_model_fields() -> None:
    task = make_task("face_turn", num_envs=3, seed=0)
    np.testing.assert_allclose(task.face_friction, 0.002)
    np.testing.assert_allclose(task.face_detent, 0.04)
    task.face_friction = np.array([0.001, 0.002, 0.004])
    task.face_detent = 0.08
    dof, jnt = task.cube_ids.hinge_dof, task.cube_ids.hinge_jnt
    assert [m.dof_frictionloss[dof] for m in task.sim.models] == [0.001, 0.002, 0.004]
    assert all(m.jnt_stiffness[jnt] == 0.08 for m in task.sim.models)


def test_settings_come_from_the_env_config() -> None:
    cfg = load_env_config("cube_solve", {"scramble_moves": 7, "scramble": "R U"})
    assert isinstance(cfg.settings, RubiksSettings)
    assert cfg.settings.scramble_moves == 7 and cfg.settings.scramble == "R U"
    task = CubeSolveTask(cfg, num_envs=1, seed=0, autoreset=False)
    assert task.settings is cfg.settings
    with pytest.raises(ValueError, match="env.scramble: .*bad move token"):  # when the config is read
        load_env_config("cube_solve", {"scramble": "R Q"})
    with pytest.raises(ValueError, match="face_tolerance must be in"):
        CubeSolveTask(cfg, num_envs=1, settings=RubiksSettings(face_tolerance=1.0))


# ----------------------------------------------------------------- face_turn
def test_face_turn_goal_distribution() -> None:
    """Aligned cube: top-face turn with probability 0.5 (orientation kept), else a flip."""
    task = make_task("face_turn", num_envs=1, seed=5, autoreset=False)
    kinds = []
    for _ in range(300):
        task.reset_env(0)
        q, g = task.cube_quat()[0], task.goal_quat[0]
        if task.goal_type[0] == ROTATE:
            assert rotation_distance(q, g) < 1e-6
            assert abs(task.face_target[0]) == pytest.approx(np.pi / 2)
        else:
            angle = rotation_distance(q, g)
            assert angle == pytest.approx(np.pi / 2) or angle == pytest.approx(np.pi)
            assert task.subgoals[0].face != task.cubes[0].up_face  # another face comes up
        kinds.append(task.goal_type[0])
    assert 0.4 < np.mean(np.asarray(kinds) == ROTATE) < 0.6


def test_face_turn_successes_and_reward() -> None:
    task = make_task("face_turn", num_envs=1, seed=2, autoreset=False)
    task.reset_env(0)
    for k in range(12):
        before, kind, target = task.cubes[0].state, task.goal_type[0], task.face_target[0]
        goal_face = task.subgoals[0].face
        face = task.cubes[0].up_face
        info = oracle_step(task)
        assert info["is_success"], f"goal {k} ({kind}) not met"
        assert info["consecutive_successes"] == k + 1
        # Reward = decrease of the distance (the full distance was removed) + 5.
        assert info["reward"] > 5.0
        if kind == ROTATE:  # +pi/2 about the hinge = counter-clockwise = X'
            assert task.cubes[0].state == before.apply(Move(face, 3 if target > 0 else 1))
        else:  # the flip's face is up now: the sticker on top has its centre colour
            assert task.cubes[0].state == before and info["rebinds"] >= 1
            assert up_sticker_face(task) == goal_face, f"flip {k} to {goal_face}"


def test_half_turn_is_not_a_success() -> None:
    task = make_task("face_turn", num_envs=1, seed=0, autoreset=False)
    task.reset_env(0)
    while task.goal_type[0] != ROTATE:
        task.reset_env(0)
    state = task.cubes[0].state
    task.turn_face(0, 0.5 * float(task.face_target[0]))  # 45°: not in a slot
    r = task.step(np.zeros((1, task.action_dim)))
    assert not r.info["is_success"][0] and not r.info["aligned"][0]
    assert task.cubes[0].state == state


def test_drop_terminates_with_penalty() -> None:
    task = make_task("face_turn", num_envs=1, seed=0, autoreset=False)
    task.reset_env(0)
    d, a = task.sim.datas[0], task.ids.cube_qpos_adr
    d.qpos[a + 2] -= 0.2  # below the palm
    r = task.step(np.zeros((1, task.action_dim)))
    assert r.terminated[0] and r.info["dropped"][0] and r.reward[0] < -15


# ----------------------------------------------------------------- cube_solve
def run_solve_oracle(task: CubeSolveTask, max_steps: int = 300) -> dict:
    info: dict = {}
    for _ in range(max_steps):
        info = oracle_step(task)
        if info["terminated"] or info["truncated"]:
            break
    return info


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cube_solve_oracle_solves_random_scrambles(seed: int) -> None:
    task = solve_task(RubiksSettings(scramble_moves=12), seed=seed)
    task.reset_env(0)
    assert not task.cubes[0].state.is_solved
    total = len(task.plans[0].subgoals)
    info = run_solve_oracle(task)
    assert info["cube_solved"] and info["terminated"] and not info["truncated"]
    assert task.cubes[0].state.is_solved
    assert info["consecutive_successes"] == total == info["subgoals_total"]
    assert info["replans"] == 0


def test_cube_solve_fair_scramble() -> None:
    task = solve_task(RubiksSettings(scramble=FAIR_SCRAMBLE))
    task.reset_env(0)
    assert task.cubes[0].state == CubeState.solved().apply(FAIR_SCRAMBLE)
    info = run_solve_oracle(task)
    assert info["cube_solved"] and task.cubes[0].state.is_solved


def test_fair_scramble_subgoal_counts() -> None:
    """Report the planner's counts: executing the fair scramble, and solving it with Kociemba."""
    scramble = parse_moves(FAIR_SCRAMBLE)
    executed = count_subgoals(plan_subgoals(scramble, CubeOrientation.identity()))
    solution = solve(CubeState.solved().apply(scramble))
    solving = count_subgoals(plan_subgoals(solution, CubeOrientation.identity()))
    print(
        f"\nfair scramble executed from U up: {executed}; "
        f"Kociemba solution ({len(solution)} moves): {solving}"
    )
    # Half turns are two quarter-turn subgoals; every move but a first U needs a flip.
    assert executed["rotations"] == 26  # [R]: 26 rotations (and 17 flips starting with L up)
    assert executed["flips"] == 18
    assert solving["rotations"] == sum(2 if m.turns == 2 else 1 for m in solution)
    assert solving["flips"] == len(solution) - (solution[0].face == "U")


def test_cube_solve_replans_after_an_unplanned_turn() -> None:
    task = solve_task(RubiksSettings(scramble_moves=6), seed=4)
    task.reset_env(0)
    while task.goal_type[0] != FLIP:  # do rotations until a flip is asked for
        oracle_step(task)
    task.turn_face(0, np.pi / 2)  # turn the top face instead of flipping
    r = task.step(np.zeros((1, task.action_dim)))
    assert r.info["replans"][0] == 1 and not r.info["is_success"][0]
    info = run_solve_oracle(task)
    assert info["cube_solved"] and task.cubes[0].state.is_solved


def test_cube_solve_autoreset_draws_a_new_scramble() -> None:
    task = make_task("cube_solve", num_envs=2, seed=0, overrides=None, autoreset=True)
    task.reset()
    first = [c.state for c in task.cubes]
    task.cubes[0].state = CubeState.solved()  # solved behind the plan's back: ends the episode
    r = task.step(np.zeros((2, task.action_dim)))
    assert r.info["cube_solved"][0] and r.terminated[0] and r.info["episode_done"][0]
    assert not r.terminated[1]
    assert task.cubes[0].state != first[0] and task.cubes[1].state == first[1]


# ----------------------------------------------------------------- solve metrics
def test_evaluation_reports_solves_apart_from_subgoal_successes() -> None:
    """A success on cube_solve is one subgoal: `success_rate` cannot tell solves. An already
    solved cube ends solved with no subgoal; a scrambled one cut off after 5 steps is unsolved."""
    from dexrl.eval.episodes import run_episodes

    solved_env = load_env_config("cube_solve", {"scramble_moves": 0, "max_episode_steps": 5})
    out = run_episodes(solved_env, None, episodes=4, num_envs=2)
    assert (out["solve_rate"], out["subgoals_completed"], out["success_rate"]) == (1.0, 0.0, 0.0)
    scrambled = load_env_config("cube_solve", {"scramble": "R U F", "max_episode_steps": 5})
    out = run_episodes(scrambled, None, episodes=4, num_envs=2)
    assert out["solve_rate"] == 0.0
    assert "solve_rate" not in run_episodes(load_env_config("face_turn", {"max_episode_steps": 3}),
                                            None, episodes=2, num_envs=2)  # fmt: skip


def test_rollout_worker_collects_cube_solved_per_episode() -> None:
    from dexrl.distributed.worker import RolloutWorker
    from dexrl.rl.config import ModelConfig

    env = load_env_config("cube_solve", {"scramble_moves": 0, "max_episode_steps": 4})
    small = ModelConfig(actor_hidden=(16,), critic_hidden=(16,))
    worker = RolloutWorker(env, small, num_envs=2, horizon=3, seed=0)
    _, stats = worker.rollout(None)  # an already solved cube ends solved at its first step
    assert stats["solved"] == [True] * 6 and len(stats["returns"]) == 6  # 2 envs x 3 steps
    env = load_env_config("cube_solve", {"scramble": "R U F", "max_episode_steps": 2})
    _, stats = RolloutWorker(env, small, num_envs=2, horizon=3, seed=0).rollout(None)
    assert stats["solved"] == [False, False]  # cut off by the step limit


def test_solve_summary_needs_one_flag_per_episode() -> None:
    from dexrl.eval.episodes import solve_summary

    assert solve_summary([True, False, False, True], [30, 12, 0, 41]) == {
        "solve_rate": 0.5,
        "subgoals_completed": 20.75,
    }
    with pytest.raises(ValueError, match="3 solve flags for 2 episodes"):
        solve_summary([True, False, True], [1, 2])


def test_cube_solve_plans_cheaper_reproducibly_and_once_per_scramble() -> None:
    """cube_solve's planner (configs/env/cube_solve.yaml plan_* keys): never dearer than
    Kociemba's first solution from the same pose, the same plan in another task built alike
    (a fixed number of calls), searched once per scramble."""
    cfg = load_env_config("cube_solve", {"scramble": FAIR_SCRAMBLE})
    assert cfg.settings.plan_max_calls > 0 and cfg.settings.plan_budget_s > 0
    tasks = [CubeSolveTask(cfg, num_envs=1, seed=0, autoreset=False) for _ in range(2)]
    try:
        for task in tasks:
            task.reset_env(0)
        task = tasks[0]
        assert tasks[1].plans[0].subgoals == task.plans[0].subgoals
        state = task.cubes[0].state
        pose = aligned_pose(task.cubes[0].solver_quat(task.sim.datas[0]))[0]
        planned = count_subgoals(task.plans[0].subgoals)
        plain = count_subgoals(plan_subgoals(solve(state), pose))
        assert 2 * planned["flips"] + planned["rotations"] < 2 * plain["flips"] + plain["rotations"]
        assert task.planner.plan(state, pose).cached  # the next reset with this scramble
        info = run_solve_oracle(task)
        assert info["cube_solved"] and task.cubes[0].state.is_solved
    finally:
        for task in tasks:
            task.planner.close()


def test_cube_solve_for_a_clockwise_only_hand_plans_and_replans_clockwise_turns() -> None:
    """env.rotate_direction=1 in cube_solve: the planner writes every turn clockwise (U' as U U U),
    the re-plan too, and the plan still solves the cube."""
    cfg = load_env_config("cube_solve", {"scramble": FAIR_SCRAMBLE, "rotate_direction": 1})
    task = CubeSolveTask(cfg, num_envs=1, seed=0, autoreset=False)
    try:
        task.reset_env(0)
        assert task.planner.settings.turn_direction == 1
        turns = [g for g in task.plans[0].subgoals if isinstance(g, RotateSubgoal)]
        assert {g.direction for g in turns} == {1} and len(turns) > 26  # [R]'s two-way plan: 26
        pose = aligned_pose(task.cubes[0].solver_quat(task.sim.datas[0]))[0]
        task._replan(0, pose)
        assert {g.direction for g in task.plans[0].subgoals if isinstance(g, RotateSubgoal)} == {1}
        info = run_solve_oracle(task, max_steps=600)
        assert info["cube_solved"] and task.cubes[0].state.is_solved
    finally:
        task.planner.close()


@pytest.mark.parametrize("velocity, expected", [(0.5, 0.5), (-0.25, -0.25), (3.0, 1.0), (-3.0, -1.0)])
def test_face_speed_pays_the_hinge_velocity_toward_the_face_goal(velocity: float, expected: float) -> None:
    """face_speed = weight · clip(hinge velocity · sign(angle still to turn), ±clip) · dt on a
    rotate goal of the top layer; nothing on a flip goal."""
    task = make_task("face_turn", num_envs=16, seed=4, autoreset=False,
                     overrides={"face_speed_weight": 2.0, "face_speed_clip": 1.0})  # fmt: skip
    task.reset()
    rotate, target, on_top = task._face_goal()
    assert (rotate & on_top).any() and (~rotate).any(), "seed 4 draws both kinds of goal"
    q, _ = task._face_progress()
    direction = np.sign(target - q)
    for i, d in enumerate(task.sim.datas):
        d.qvel[task.cube_ids.hinge_dof] = velocity * direction[i]  # toward the goal when velocity > 0
    task.refresh()
    terms = task._task_reward_terms()
    dt = task.control_dt
    np.testing.assert_allclose(terms["face_speed"][rotate & on_top], 2.0 * expected * dt)
    assert (terms["face_speed"][~rotate] == 0.0).all()


def test_face_speed_is_off_by_default_and_refuses_a_negative_weight() -> None:
    task = make_task("face_turn", num_envs=2, seed=0)
    task.reset()
    assert "face_speed" not in task._task_reward_terms()
    with pytest.raises(ValueError, match="face_speed_weight"):
        make_task("face_turn", num_envs=2, seed=0, overrides={"face_speed_weight": -1.0})


@pytest.mark.parametrize("direction", [1, -1])
def test_rotate_direction_fixes_the_turn_goals_direction(direction: int) -> None:
    """env.rotate_direction=+1 asks only clockwise turns (hinge angle -90 deg), -1 only
    counter-clockwise ones; the default draws both; any other value is refused."""
    task = make_task("face_turn", num_envs=32, seed=2, autoreset=False,
                     overrides={"rotate_probability": 1.0, "rotate_direction": direction})  # fmt: skip
    task.reset()
    rotate = task.goal_type == ROTATE
    assert rotate.sum() >= 16, "most grasp-free resets are aligned, so most goals are turns"
    np.testing.assert_allclose(task.face_target[rotate], -direction * np.pi / 2)
    both = make_task("face_turn", num_envs=32, seed=2, autoreset=False, overrides={"rotate_probability": 1.0})
    both.reset()
    assert set(np.sign(both.face_target[both.goal_type == ROTATE]).tolist()) == {-1.0, 1.0}
    with pytest.raises(ValueError, match="rotate_direction"):
        make_task("face_turn", num_envs=2, seed=0, overrides={"rotate_direction": 2})


def test_committed_turns_are_tallied_by_direction_across_resets() -> None:
    """RubiksCube.turns_by_direction: [clockwise (hinge -90 deg, U), counter-clockwise (U')]
    quarter turns committed since the cube was made (scripts/probe_face.py reads it)."""
    task = make_task("face_turn", num_envs=1, seed=0, autoreset=False)
    task.reset()
    cube = task.cubes[0]
    task.turn_face(0, np.pi / 2)
    task.step(np.zeros((1, task.action_dim)))
    assert cube.turns_by_direction == [0, 1]
    task.turn_face(0, -np.pi)  # two clockwise quarter turns at once
    task.step(np.zeros((1, task.action_dim)))
    assert cube.turns_by_direction == [2, 1]
    task.reset()
    assert cube.turns_by_direction == [2, 1] and cube.quarter_turns == 0
