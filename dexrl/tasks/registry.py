"""The task table: task name → (task class, its settings dataclass, gymnasium id).

Each task module fills it: a `register_task("<name>", <TaskClass>, gym_id="dexrl/<Id>-v0")` call
at the end of the module names the task, its class (whose `settings_type` is the task's settings
dataclass) and its gymnasium id. `make_task`, the gymnasium ids (`gymnasium.make(
"dexrl/CubeRotate-v0")`) and the env config's check of `env.task` all read this table.

`import dexrl` registers the gymnasium ids and must stay cheap (no MuJoCo: a hand computer imports
`dexrl.deploy` with numpy and onnxruntime only), so the registry first reads the `register_task`
calls from the source of the modules in `dexrl/tasks/` without importing them (`_declared`: names
and ids as string literals), and imports a task's module when the task is used (`task_spec`). A
task defined outside the package registers when its module is imported: its env yaml names that
module (`task_module: mylab.spin_task`, EnvConfig.task_module), which `task_spec` imports before
it looks the task up. A rollout worker needs nothing more: the EnvConfig it receives carries the
task's settings, whose class unpickles by importing the same module (so it must be importable on
every worker: on PYTHONPATH, or installed).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dexrl.config import EnvConfig, load_env_config
from dexrl.env_config import TaskSettings, shared_keys

if TYPE_CHECKING:
    from dexrl.tasks.base import HandTask


@dataclass(frozen=True)
class TaskSpec:
    """One row of the table."""

    name: str  # the value of env.task
    task_class: type[HandTask]  # the HandTask subclass that runs it
    gym_id: str  # gymnasium id; gymnasium.make(gym_id) builds configs/env/<env>.yaml
    env: str  # the env config of the gymnasium id (configs/env/<env>.yaml)

    @property
    def settings(self) -> type[TaskSettings]:
        """The task's settings dataclass (`task_class.settings_type`)."""
        return self.task_class.settings_type


_TABLE: dict[str, TaskSpec] = {}  # registered (the task's module imported)
_PACKAGE = "dexrl.tasks"


@dataclass(frozen=True)
class _Declared:
    """A `register_task` call read from a module's source."""

    module: str
    gym_id: str
    env: str


@functools.lru_cache(maxsize=1)
def _declared() -> dict[str, _Declared]:
    """task name -> its module, gymnasium id and env, from the top-level `register_task(...)`
    calls in the source of dexrl/tasks/*.py (read, not imported)."""
    found: dict[str, _Declared] = {}
    for path in sorted(Path(__file__).parent.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.stem == "registry" or "register_task(" not in text:
            continue
        for node in ast.parse(text, str(path)).body:
            call = node.value if isinstance(node, ast.Expr) else None
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "register_task"):
                continue
            where = f"{path}:{node.lineno}"
            given = {k.arg: k.value for k in call.keywords}
            given.update({key: arg for key, arg in zip(("name", "task_class", "gym_id", "env"), call.args, strict=False)})
            name, gym_id = _literal(given.get("name"), where), _literal(given.get("gym_id"), where)
            if name is None or gym_id is None:
                raise TypeError(f"{where}: register_task(...) names no task or no gym_id")
            found[name] = _Declared(f"{_PACKAGE}.{path.stem}", gym_id, _literal(given.get("env"), where) or name)
    return found


def _literal(node: ast.expr | None, where: str) -> str | None:
    if node is None or (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None if node is None else str(node.value)
    raise TypeError(f"{where}: register_task(...) must give the task's name, gym_id and env as string "
                    "literals: the registry reads them without importing the module")  # fmt: skip


def register_task(name: str, task_class: type[HandTask], gym_id: str, env: str | None = None) -> TaskSpec:
    """Add task `name` to the table (call it at the end of the task's module). `task_class` is
    the HandTask subclass; its `settings_type` (a TaskSettings dataclass) holds the task's own
    keys, which may not reuse a shared EnvConfig key. `env`: the env config gymnasium builds for
    `gym_id` (default: `name`, i.e. configs/env/<name>.yaml)."""
    settings = getattr(task_class, "settings_type", None)
    if not (isinstance(settings, type) and issubclass(settings, TaskSettings) and dataclasses.is_dataclass(settings)):
        raise TypeError(f"task '{name}': {task_class.__name__}.settings_type must be a TaskSettings dataclass")
    clash = sorted({f.name for f in dataclasses.fields(settings)} & shared_keys())
    if clash:
        raise TypeError(f"task '{name}': {settings.__name__} re-declares the shared env key(s) {', '.join(clash)}")
    spec = TaskSpec(name, task_class, gym_id, env or name)
    declared = _declared().get(name)
    if declared is not None and (declared.gym_id, declared.env) != (spec.gym_id, spec.env):
        raise ValueError(f"task '{name}' is declared in {declared.module} with gym id {declared.gym_id} "
                         f"(env {declared.env}); another register_task gives {spec.gym_id} (env {spec.env})")  # fmt: skip
    for other in _TABLE.values():
        if other.name != name and other.gym_id == gym_id:
            raise ValueError(f"task '{name}': gymnasium id {gym_id} is task '{other.name}''s already")
    old = _TABLE.get(name)
    if old is not None and old.task_class.__qualname__ != task_class.__qualname__:
        raise ValueError(f"task '{name}' is registered twice ({old.task_class.__qualname__}, {task_class.__qualname__})")
    _TABLE[name] = spec
    return spec


def task_names() -> tuple[str, ...]:
    """Every task: those of dexrl/tasks/ (in file order), then any registered from elsewhere."""
    return tuple(dict.fromkeys([*_declared(), *_TABLE]))


def import_task_module(module: str | None) -> None:
    """Import `module` (env.task_module: the module of a task defined outside dexrl, whose
    `register_task` call runs on import); nothing for None. ValueError in one line naming the
    module when it cannot be found; an error raised by the module's own code propagates as is."""
    if not module:
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if not (module == missing or module.startswith(missing + ".")):
            raise ValueError(f"env.task_module='{module}' cannot be imported: it imports '{missing}', "
                             f"which is not installed ({err})") from None  # fmt: skip
        raise ValueError(f"env.task_module='{module}' cannot be imported (no module named '{missing}'): the "
                         "module registering env.task must be importable by the trainer and by every rollout "
                         "worker: put its folder on PYTHONPATH (on every machine of a cluster) or install "
                         "it as a package") from None  # fmt: skip


def task_spec(task: str, module: str | None = None) -> TaskSpec:
    """The table's row for `task` (its module imported now if it was not: dexrl's own from the
    declared table, another one from `module`, env.task_module); ValueError listing the tasks
    when there is none."""
    declared = _declared().get(task)
    if task not in _TABLE and declared is not None:
        importlib.import_module(declared.module)  # its register_task call fills the row
    if task not in _TABLE and module:
        import_task_module(module)
        if task not in _TABLE:
            raise ValueError(f"env.task='{task}' is not registered by env.task_module='{module}': the module "
                             f"must call register_task(\"{task}\", <TaskClass>, gym_id=...) when it is imported "
                             f"(it registers: {', '.join(sorted(set(_TABLE) - set(_declared()))) or 'none'})")  # fmt: skip
    if task not in _TABLE:
        raise ValueError(f"env.task='{task}' is not a task; choose one of {', '.join(task_names())} (a task "
                         "defined outside dexrl: set env.task_module to the module that registers it)")  # fmt: skip
    return _TABLE[task]


def task_class(task: str, module: str | None = None) -> type[HandTask]:
    """The HandTask subclass implementing `task` (`module`: env.task_module, see `task_spec`)."""
    return task_spec(task, module).task_class


def tasks_with_setting(key: str) -> list[str]:
    """The tasks whose own settings have a key `key` (flat env.<key>); imports every task."""
    specs = [task_spec(name) for name in task_names()]
    return [s.name for s in specs if key in {f.name for f in dataclasses.fields(s.settings)}]


def gym_ids() -> dict[str, str]:
    """gymnasium id -> name of the env config it builds (configs/env/<name>.yaml); no task module
    is imported."""
    ids = {d.gym_id: d.env for d in _declared().values()}
    return {**ids, **{s.gym_id: s.env for s in _TABLE.values()}}


def make_task(
    env: str | EnvConfig,
    num_envs: int = 1,
    seed: int = 0,
    overrides: dict[str, Any] | None = None,
    autoreset: bool = True,
) -> Any:
    """Build the batched task for an env name (configs/env/<name>.yaml) or an EnvConfig."""
    cfg = env if isinstance(env, EnvConfig) else load_env_config(env, overrides)
    return task_class(cfg.task, cfg.task_module)(cfg, num_envs=num_envs, seed=seed, autoreset=autoreset)


def register_gymnasium_envs() -> None:
    """Register every dexrl env id with gymnasium (idempotent)."""
    import gymnasium

    for gym_id, name in gym_ids().items():
        if gym_id not in gymnasium.registry:
            gymnasium.register(
                id=gym_id,
                entry_point="dexrl.tasks.gym_env:DexHandEnv",
                kwargs={"env": name},
            )


__all__ = [
    "TaskSpec", "gym_ids", "import_task_module", "load_env_config", "make_task", "register_gymnasium_envs",
    "register_task", "task_class", "task_names", "task_spec", "tasks_with_setting",
]  # fmt: skip
