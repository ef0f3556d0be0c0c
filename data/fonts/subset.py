#!/usr/bin/env python3
"""Makes NotoSansSC-GB2312.otf, the font the briefing's PNG charts are drawn with.

Noto Sans CJK SC Regular (OFL 1.1, Debian package fonts-noto-cjk 1:20220127) cut down to
ASCII, GB2312 (every character the code page encodes: 6,763 hanzi, punctuation, full-width
forms) and the general and CJK punctuation blocks, with no layout tables and no hinting.

    apt-get install fonts-noto-cjk && pip install fonttools
    python3 data/fonts/subset.py
"""
import pathlib
import subprocess

here = pathlib.Path(__file__).resolve().parent
chars = set(range(0x20, 0x7F))
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.update(ord(c) for c in bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(range(0x2000, 0x2070))  # general punctuation: – — ‘ ’ “ ” … ‰
chars.update(range(0x3000, 0x3040))  # CJK symbols and punctuation: 、 。 「 」 【 】
chars.update(range(0xFF01, 0xFF5F))  # full-width forms: （ ） ， ： ； ％
chars.add(0x00B7)  # middle dot
codes = here / "unicodes.txt"
codes.write_text("\n".join(f"U+{c:04X}" for c in sorted(chars)) + "\n")
subprocess.run(
    [
        "pyftsubset",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "--font-number=2",  # Noto Sans CJK SC in the collection
        f"--unicodes-file={codes}",
        "--layout-features=",
        "--drop-tables+=GSUB,GPOS,vhea,vmtx,VORG,DSIG",
        "--no-hinting",
        "--name-IDs=*",
        f"--output-file={here / 'NotoSansSC-GB2312.otf'}",
    ],
    check=True,
)
codes.unlink()
print(len(chars), "code points")
