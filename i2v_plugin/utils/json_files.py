"""Reading a JSON file whose errors name the file."""

import json


def load_json(path: str, not_found: str):
    """The parsed content of the JSON file ``path``.

    Args:
        path: the file.
        not_found: the message of the FileNotFoundError raised when the file is missing.
    Returns:
        the decoded JSON value.
    Raises:
        FileNotFoundError(not_found), without the original as its cause, for a missing file;
        ValueError "<path>: not valid JSON (<error>)" for a file that is not JSON.
    """
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(not_found) from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
