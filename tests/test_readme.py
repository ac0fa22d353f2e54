"""The README's status tables say what the committed results say."""
import json, re, subprocess, sys
from pathlib import Path
from ttsr.config import load_yaml
from ttsr.report import load_outputs, THESIS_NUMBERS
from ttsr.findings import findings

ROOT = Path(__file__).resolve().parent.parent
CPU = ROOT/'results'/'profiles'/'cpu'      # the cpu profile's committed run (params.yaml's `cpu` profile)

def _table_after(text:str, heading:str) -> tuple[list[str], list[list[str]]]:
    "Header and cells of the first markdown table after the line starting with `heading`."
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith('|'))
    cells = lambda l: [c.strip() for c in l.strip('|').split('|')]
    rows = []
    for l in lines[start + 2:]:
        if not l.startswith('|'): break
        rows.append(cells(l))
    return cells(lines[start]), rows

def _check(header, rows, profile, outputs):
    "The profile's verdict column holds ttsr.findings' verdicts, and its numbers are ones the checks measured."
    found = findings(outputs)
    col, verdict = header.index(f'{profile} profile'), header.index(f'verdict ({profile})')
    assert [r[0][:2] for r in rows] == [f['finding'][:2] for f in found]
    assert [r[verdict] for r in rows] == [f['verdict'] for f in found], profile
    for r, f in zip(rows, found):
        measured = ' '.join(str(c['ours']) for c in f['checks']).replace('-', '−')
        for number in re.findall(r'[+−]\d+\.\d\d', r[col]):
            assert number in measured, (profile, r[0], number, measured)

def test_readme_findings_match_the_results():
    "Each finding's verdicts in the README are the ones ttsr.findings computes from the committed results."
    header, rows = _table_after((ROOT/'README.md').read_text(), '**The thesis\'s findings**')
    _check(header, rows, 'demo', load_outputs(ROOT))
    params = {**load_yaml(ROOT/'params.yaml'), 'profile': 'cpu'}
    _check(header, rows, 'cpu', load_outputs(CPU, params=params, thesis=ROOT/THESIS_NUMBERS))

def test_real_pair_numbers_are_measured():
    "The README's real-pair table and `benchmarks/real_pairs.py --table` quote the committed real-pair JSONs' gains."
    gains = {f"{v:+.2f}".replace('-', '−') for f in (ROOT/'results'/'real_pairs').rglob('*.json')
             for m in json.loads(f.read_text())['gain_over_bicubic_y_db'].values() for v in m.values()}
    _, rows = _table_after((ROOT/'README.md').read_text(), '**Real camera pairs**')
    quoted = {n.replace('-', '−') for r in rows for n in re.findall(r'[+−-]\d+\.\d\d', ' '.join(r[1:]))}
    assert quoted and quoted <= gains | {'0.00'}, quoted - gains
    out = subprocess.run([sys.executable, str(ROOT/'benchmarks'/'real_pairs.py'), '--table', str(ROOT/'results'/'real_pairs')],
                         capture_output=True, text=True, check=True).stdout
    table = {n.replace('-', '−') for l in out.splitlines()[4:] if l.startswith('| ') for n in re.findall(r'[+-]\d+\.\d\d', l)}
    assert 'no confidence interval' in out and table and table <= gains
