"""A configuration file as it comes off real gear, turned into the text the parsers read.

Saved configs and captured sessions (`display current-configuration`, `show running-config`)
arrive as UTF-8 (with or without a BOM) or, on Huawei and H3C gear with Chinese
`description` lines, as GBK. The encoding is decided for the whole file, never per line: a
file that is not valid UTF-8 is read as GB18030 (a superset of GBK) if the whole of it
decodes so, else it is a `DecodeError` naming the file. A file of NUL bytes, or with NUL
bytes inside it, is not a config at all (a zeroed flash, a binary saved under the name): a
`DecodeError` too, because reading it as an empty config would let a broken backup pass for
"nothing configured"; NULs only at the end (padding of a flash copy) are dropped.

What a terminal adds is removed as text, never as lines, so every line number still points
into the file: pager prompts (`  ---- More ----` with its ANSI escapes and the backspaces or
spaces that erase it, `--More--`), the prompt and command echo (`<AR1>display
current-configuration`, `[~HUAWEI]...`, `R1#show running-config`) and the IOS banner lines
(`Building configuration...`, `Current configuration : 1234 bytes`, FRR's bare
`Current configuration:`). Line ends (CRLF, CR)
become LF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from egovnet.errors import EgovnetError

UTF8, UTF8_BOM, GB18030 = "utf-8", "utf-8-sig", "gb18030"


class DecodeError(EgovnetError, ValueError):
    """A config file that cannot be read as text; the message names the file."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: cannot read as a configuration: {reason}")
        self.file = file
        self.reason = reason


@dataclass(frozen=True)
class ConfigText:
    """A config's text as the parsers read it, the encoding it was in, and its file."""

    text: str
    encoding: str
    file: str


_MORE = r"[ \t]*(?:-{2,4} ?More ?-{2,4}|<--- More --->)[ \t]*"
_PAGER_ANSI = re.compile(_MORE + r"\x1b\[(\d+)D *\x1b\[\1D")
"""VRP/Comware: the prompt, the cursor back over it, spaces over it, the cursor back again."""
_PAGER_BACKSPACE = re.compile(_MORE + r"\x08+ *\x08*")
"""IOS and older VRP: the prompt erased with backspaces and spaces."""
_PAGER = re.compile(_MORE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ERASED = re.compile(r"[^\n\x08]\x08")
_VRP_PROMPT = re.compile(r"^(?:<[^<>\s]+>|\[[~*]?[^\[\]\s]+\]).*$")
"""`<AR1>...` or `[~AR1-GigabitEthernet0/0/1]...`: no VRP/Comware config line starts so."""
_IOS_PROMPT = re.compile(r"^[\w.\-]+[#>]\s*(?:(?:sh(?:ow)?|more|term(?:inal)?)\b.*)?$")
_PROMPT_STARTS = frozenset("<[BC")
_IOS_BANNER = re.compile(
    r"^(?:Building configuration\.\.\.|Current configuration ?:(?: ?\d+ bytes)?)$"
)
"""IOS's `Current configuration : 1234 bytes`; FRR's vtysh prints `Current configuration:`."""


def decode(data: bytes, file: str) -> tuple[str, str]:
    """`data` as text and the encoding it was in (`DecodeError` when it is not text).

    >>> decode("sysname 北京".encode("gbk"), "a.cfg")
    ('sysname 北京', 'gb18030')
    >>> decode(b"\\xef\\xbb\\xbfsysname a", "a.cfg")
    ('sysname a', 'utf-8-sig')
    """
    body = data.rstrip(b"\x00")  # flash copies may be padded with NULs at the end
    if not body and data:
        raise DecodeError(file, f"only NUL bytes ({len(data)}): zeroed data, not a config")
    if b"\x00" in body:
        at = body.index(b"\x00")
        raise DecodeError(file, f"NUL byte at offset {at}: binary data, not a config")
    bom = body.startswith(b"\xef\xbb\xbf")
    for encoding in (UTF8_BOM,) if bom else (UTF8, GB18030):
        try:
            return body.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            failure = exc
    raise DecodeError(file, f"neither UTF-8 nor GBK/GB18030 (bad byte at offset {failure.start})")


def clean(text: str) -> str:
    """A captured config with the terminal's additions removed, line for line.

    >>> clean("<AR1>display current-configuration\\r\\n#\\r\\n  ---- More ----\\x1b[16D"
    ...       "                \\x1b[16Dsysname AR1\\r\\n")
    '\\n#\\nsysname AR1\\n'
    >>> clean("R1#show running-config\\nBuilding configuration...\\n\\nhostname R1\\n")
    '\\n\\n\\nhostname R1\\n'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "More" in text or "more" in text.lower():
        text = _PAGER_ANSI.sub("", text)
        text = _PAGER_BACKSPACE.sub("", text)
        text = _PAGER.sub("", text)
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    while "\x08" in text:
        erased = _ERASED.sub("", text)
        if erased == text:
            text = text.replace("\x08", "")
            break
        text = erased
    lines = text.split("\n")
    for at, line in enumerate(lines):
        stripped = line.strip()
        if stripped[:1] not in _PROMPT_STARTS and "#" not in stripped and ">" not in stripped:
            continue  # the quick test: no prompt or banner starts or reads so
        if any(p.match(stripped) for p in (_VRP_PROMPT, _IOS_PROMPT, _IOS_BANNER)):
            lines[at] = ""
    return "\n".join(lines)


def read_config_text(path: Path) -> ConfigText:
    """A config file read and cleaned (`DecodeError` naming the file when it is not text)."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DecodeError(file, exc.strerror or str(exc)) from None
    text, encoding = decode(data, file)
    return ConfigText(clean(text), encoding, file)
