"""What the obfuscation check (obfuscation.py) looks for, by name, and the tests on a call found.

By role: decoders and data-file reads feed a value; exec and shell calls run one; name-building
calls (`__import__`, `getattr`, `require`) hide a name. A name is the last one of a callee
(`base64.b64decode` -> `b64decode`), as `call_sites` finds callees by the name they end with.
"""

from __future__ import annotations

import re

from tree_sitter import Node

from skillscan.analyzers.treesitter.constants import resolve
from skillscan.analyzers.treesitter.flow_model import JS, Lang, positional
from skillscan.analyzers.treesitter.parsing import node_text

DECODERS = frozenset(
    {"b64decode", "urlsafe_b64decode", "b32decode", "b16decode", "a85decode", "b85decode", "decodebytes",
     "decodestring", "unhexlify", "fromhex", "decompress", "loads", "atob", "inflateSync", "gunzipSync",
     "inflateRawSync", "brotliDecompressSync", "unzipSync", "fromCharCode", "reversed", "rot13"}
)  # fmt: skip
PY_EXEC = frozenset(
    {"exec", "eval", "compile", "execfile", "run_path", "run_module", "exec_module", "FunctionType"}
)
JS_EXEC = frozenset(
    {"eval", "Function", "runInThisContext", "runInNewContext", "runInContext", "Script", "setTimeout",
     "setInterval", "compileFunction"}
)  # fmt: skip
SHELL_EXEC = frozenset(
    {"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen", "subprocess.check_output",
     "subprocess.check_call", "subprocess.getoutput", "execSync", "exec", "child_process.exec",
     "child_process.execSync", "cp.exec", "cp.execSync", "spawn", "spawnSync"}
)  # fmt: skip
DATA_EXT = re.compile(
    r"(?i)\.(?:png|jpe?g|gif|bmp|ico|webp|svg|json|txt|dat|bin|csv|log|md|yaml|yml|xml|ttf|woff2?|mp3|wav|pdf|db|cache|lock)$"
)
DANGEROUS_NAMES = frozenset(
    {"os", "subprocess", "system", "popen", "exec", "eval", "compile", "socket", "pty", "ctypes", "child_process",
     "execSync", "spawn", "net", "dgram", "__import__", "getattr", "builtins", "__builtins__", "marshal",
     "pickle", "importlib", "Function", "spawnSync", "execFile", "run", "check_output", "urllib", "requests"}
)  # fmt: skip
HIDDEN_CALLS = {"python": frozenset({"__import__", "importlib.import_module", "import_module", "getattr",
                                      "builtins.getattr"}), "javascript": frozenset({"require"})}  # fmt: skip
READS = frozenset({"open", "read_text", "read_bytes", "readFileSync", "readFile", "get_data"})
# The last names of the callees a finding can start from, by role: decoders and data-file reads
# feed a value; exec and shell calls run one; name-building calls hide a name.
DECODING = {"python": DECODERS | {"decode"}, "javascript": DECODERS | {"decode", "from"}}
SHELL_LEAVES = frozenset(name.rsplit(".", 1)[-1] for name in SHELL_EXEC)
RUNNING = {"python": PY_EXEC | SHELL_LEAVES, "javascript": JS_EXEC}
HIDING = {lang: frozenset(n.rsplit(".", 1)[-1] for n in names) for lang, names in HIDDEN_CALLS.items()}
HIDING_SECOND = frozenset({"getattr"})  # the name is its second argument
REVERSAL_TEXT = re.compile(r": *: *- *1")  # what `[::-1]` reads as, spaces left out


def is_decoder(call: Node, name: str, lang: Lang) -> bool:
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "loads" and not name.startswith(("marshal", "pickle", "dill", "cloudpickle")):
        return False  # json.loads is parsing, not unpacking code
    if leaf == "decompress" or leaf in DECODERS - {"loads", "decode"}:
        return True
    if leaf == "decode" and name.startswith("codecs"):
        return True
    if leaf == "from" and lang is JS and name.endswith("Buffer.from"):
        args = positional(call)
        return len(args) > 1 and (resolve(args[1]) or "") in {"base64", "hex", "base64url"}
    return False


def reads_data_ext(call: Node, name: str) -> bool:
    """`open("logo.png")`, `Path("x.json").read_text()`: a read of a data file."""
    if name.rsplit(".", 1)[-1] not in READS:
        return False
    target = positional(call)[:1] or [call.child_by_field_name("function") or call]
    text = resolve(target[0]) or node_text(target[0])
    return bool(DATA_EXT.search(text.strip("\"'` )")))


def is_reversal(sub: Node) -> bool:
    return node_text(sub.child_by_field_name("subscript") or sub).replace(" ", "") == "::-1"
