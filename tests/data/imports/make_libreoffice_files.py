"""Make the workbooks of tests/data/imports that LibreOffice writes (committed; run again only to change them):

    apt-get install libreoffice-calc-nogui
    .venv/bin/python tests/data/imports/make_libreoffice_files.py

Each is a file make_files.py made, opened and saved again by LibreOffice Calc (headless), as a clerk on
LibreOffice or WPS would send it: its own shared strings, styles, number formats and cached formula values.
lo_clerk_items.xlsx and lo_counts.xlsx (Office Open XML) and lo_bad_items.xls (Excel 97-2003, LibreOffice's
BIFF8 writer); cases.yaml and count_cases.yaml say what importing each must do.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MADE = {  # source made by make_files.py -> (LibreOffice filter, file written here)
    "clerk_items.xlsx": ("xlsx:Calc MS Excel 2007 XML", "lo_clerk_items.xlsx"),
    "bad_items.xlsx": ("xls:MS Excel 97", "lo_bad_items.xls"),
    "counts_good.xlsx": ("xlsx:Calc MS Excel 2007 XML", "lo_counts.xlsx"),
}


def main() -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
    with tempfile.TemporaryDirectory() as scratch:
        for source, (target_filter, name) in MADE.items():
            out = Path(scratch) / name.rsplit(".", 1)[0]
            out.mkdir()
            subprocess.run(
                [
                    soffice,
                    "--headless",
                    f"-env:UserInstallation=file://{scratch}/profile",
                    "--convert-to",
                    target_filter,
                    "--outdir",
                    str(out),
                    str(HERE / source),
                ],
                check=True,
                capture_output=True,
                timeout=300,
            )
            (written,) = out.iterdir()
            shutil.copyfile(written, HERE / name)
            print(f"{source} -> {name} ({(HERE / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
