"""Reading YAML files (model cards, sweep specs) safely, with one-line errors that name file, line and column.

Only plain data is read (mappings, lists, strings, numbers, booleans, null): a tag that would build a Python
object (``!!python/object/apply:os.system``) is refused, never executed. OmegaConf interpolations
(``${train.seeds}``) are resolved.
"""

from __future__ import annotations

from pathlib import Path

from neurorx.errors import ConfigurationError

__all__ = ["YamlError", "parse_yaml_value", "read_yaml"]


class YamlError(ConfigurationError):
    """A YAML file or value that cannot be read: a syntax error, a Python tag, not a text file, a folder."""


def _describe(err: Exception, where: str, position: bool = True) -> str:
    """One line for a ``yaml.YAMLError``: ``where, line L, column C: problem``."""
    import yaml

    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    position = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None and position else ""
    if isinstance(err, yaml.constructor.ConstructorError) and "tag" in problem:
        tag = problem.split("tag", 1)[1].strip().strip("'\"").replace("tag:yaml.org,2002:", "!!")
        return (f"{where}{position}: the tag {tag} is not allowed; cards and specs hold plain values (numbers, "
                f"strings, lists, mappings): remove the tag")
    context = getattr(err, "context", None)
    detail = f"{problem} ({context})" if context and context not in problem else problem
    return f"{where}{position}: invalid YAML: {detail}"


def read_yaml(path: str | Path, what: str = "YAML file", *, resolve: bool = True):
    """The plain data of the YAML file ``path`` (interpolations resolved unless ``resolve`` is false).

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for messages ("model card", "sweep spec").
    resolve : bool
        Resolve OmegaConf interpolations (``${train.seeds}``) now; ``False`` leaves them to the caller.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    YamlError
        A :class:`~neurorx.errors.ConfigurationError` naming the file (with line and column) for a syntax
        error, a Python tag, a folder, a file that is not UTF-8 text or cannot be read.
    """
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = Path(path)
    if path.is_dir():
        raise YamlError(f"{path} is a folder, not a {what}; give the .yml/.yaml file inside it")
    if not path.exists():
        raise FileNotFoundError(f"no such {what}: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise YamlError(f"{path} is not a text file, so not a {what}; give a YAML file") from None
    except OSError as err:
        raise YamlError(f"cannot read the {what} {path}: {err.strerror or err}") from None
    try:
        try:
            conf = OmegaConf.create(text)   # OmegaConf's loader derives from yaml.SafeLoader: plain data only
        except (AssertionError, ValueError):
            return yaml.safe_load(text)     # a lone scalar (not a mapping or a list): the caller names the fix
        return OmegaConf.to_container(conf, resolve=resolve)
    except yaml.YAMLError as err:
        raise YamlError(_describe(err, str(path))) from None
    except OmegaConfBaseException as err:
        raise YamlError(f"{path}: cannot read the {what}: {str(err).splitlines()[0]}") from None


def parse_yaml_value(text: str, where: str):
    """The plain value of one YAML scalar or flow collection (an override's right-hand side)."""
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.to_container(OmegaConf.from_dotlist([f"v={text}"]))["v"]
    except yaml.YAMLError as err:
        raise YamlError(_describe(err, where, position=False)) from None
    except OmegaConfBaseException as err:
        raise YamlError(f"{where}: {str(err).splitlines()[0]}") from None
