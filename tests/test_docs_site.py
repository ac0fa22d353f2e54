"""The offline docs site: `ttsr.docs.build_site` (the `ttsr-docs` command) builds it from the notebooks (nbdev-processed) and rendered reports, and
headless Chromium shows the pages with their headings, rendered `show_doc` signatures and inline figures."""
from __future__ import annotations
import os, shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = next((shutil.which(c) for c in ('chromium', 'chromium-browser', 'google-chrome') if shutil.which(c)), None)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run']

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason='headless Chromium not installed (Debian: apt-get install -y chromium)')


@pytest.fixture(scope='module')
def site(tmp_path_factory, report_tree):
    "The site built from this checkout's notebooks plus reports rendered from a synthetic stage-output tree."
    from ttsr.render import render
    from ttsr.docs import build_site
    tmp = tmp_path_factory.mktemp('docs')
    fixture = report_tree
    reports = fixture/'results'/'reports'
    render('summary', root=fixture, out_dir=reports)
    render('experiment', 'exp1_ttsr', root=fixture, out_dir=reports)
    index, errors = build_site(out=tmp/'site', reports=reports, workers=2, quiet=True, root=ROOT)
    return index.parent, errors, tmp


def browse(page:Path, tmp:Path, *args:str) -> subprocess.CompletedProcess:
    "Run headless Chromium on a local page with a fresh profile."
    profile = tmp/f'chromium-profile-{len(list(tmp.glob("chromium-profile-*")))}'
    cmd = [CHROMIUM, *FLAGS, f'--user-data-dir={profile}', *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def dom(page:Path, tmp:Path) -> str:
    r = browse(page, tmp, '--dump-dom')
    assert r.returncode == 0 and '<html' in r.stdout, r.stderr[-2000:]
    return r.stdout


def test_every_notebook_is_processed_by_nbdev(site):
    out, errors, _ = site
    assert not errors, 'nbdev could not execute the show_doc cells of: ' + '; '.join(f'{k}: {v}' for k, v in errors.items())


def test_pages_exist(site):
    out, _, _ = site
    for page in ('index.html', 'config.html', 'explorer.html', 'reports/summary.html', 'reports/exp1_ttsr.html'):
        assert (out/page).is_file(), page
    assert not (out/'_proc').exists()


def test_index_has_sidebar(site):
    out, _, tmp = site
    html = dom(out/'index.html', tmp)
    assert 'class="site-nav"' in html
    for link in ('config.html', 'explorer.html', 'reports/summary.html', 'reports/exp1_ttsr.html'):
        assert f'href="{link}"' in html, link


def test_module_page_renders_show_doc(site):
    out, _, tmp = site
    html = dom(out/'config.html', tmp)
    assert '<h1 id="Configuration">Configuration' in html
    assert '<h3 id="from_dict">from_dict' in html, 'show_doc of from_dict is not rendered as a heading'
    assert '<span class="nf">from_dict</span>' in html, 'show_doc signature of from_dict is missing'
    assert '#| export' not in html and 'show_doc(' not in html, 'nbdev directives or show_doc calls leaked into the page'
    assert 'https://' not in ''.join(l for l in html.splitlines() if '<script' in l), 'the page loads a remote script'


def test_report_pages_show_figures(site):
    out, _, tmp = site
    html = dom(out/'reports'/'summary.html', tmp)
    assert 'Table 6.2' in html and 'No super-resolution' in html and 'Figure 6.4' in html
    assert html.count('src="data:image/png;base64,') >= 4, 'the summary should show its figures inline'
    assert 'href="../config.html"' in html, 'report pages link back into the site'
    html = dom(out/'reports'/'exp1_ttsr.html', tmp)
    assert 'id="Training-curves"' in html and 'src="data:image/png;base64,' in html


def test_screenshot_is_not_blank(site):
    out, _, tmp = site
    shot = tmp/'summary.png'
    r = browse(out/'reports'/'summary.html', tmp, f'--screenshot={shot}', '--window-size=1200,2400', '--hide-scrollbars')
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    import matplotlib.image
    img = matplotlib.image.imread(str(shot))
    assert img.shape[0] >= 2400 and img.std() > 0.05, 'the rendered page looks blank'
