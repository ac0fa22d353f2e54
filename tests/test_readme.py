"""The README's status tables say what the committed results say."""
import re
from pathlib import Path
from ttsr.report import load_outputs
from ttsr.findings import findings

ROOT = Path(__file__).resolve().parent.parent

def _table_after(text:str, heading:str) -> list[list[str]]:
    "The cells of the first markdown table after the line starting with `heading` (header and rule dropped)."
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith('|'))
    rows = []
    for l in lines[start + 2:]:
        if not l.startswith('|'): break
        rows.append([c.strip() for c in l.strip('|').split('|')])
    return rows

def test_readme_findings_match_the_results():
    "Each finding's verdict in the README is the one ttsr.findings computes from results/, and so are its numbers."
    rows = _table_after((ROOT/'README.md').read_text(), '**The thesis\'s findings**')
    found = findings(load_outputs(ROOT))
    assert [r[0][:2] for r in rows] == [f['finding'][:2] for f in found]
    assert [r[-1] for r in rows] == [f['verdict'] for f in found]
    for r, f in zip(rows, found):          # every signed number the README quotes is one the checks measured
        measured = ' '.join(str(c['ours']) for c in f['checks']).replace('-', '−')
        for number in re.findall(r'[+−]\d+\.\d\d', r[2]):
            assert number in measured, (r[0], number, measured)
