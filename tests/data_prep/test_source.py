"""Dataset source resolution and the checked download (a local HTTP server only)."""
import hashlib

import pytest

from data_prep import source
from pennfudan_vit.errors import UserError

from data_prep_checks import assert_failed, load


@pytest.fixture
def repo_data(tmp_path, monkeypatch):
    """An empty stand-in for the repository's data/ folder, and no $PENNFUDAN_SRC."""
    data = tmp_path / 'repo_data'
    monkeypatch.setattr(source, 'DATA_DIR', data)
    monkeypatch.delenv(source.ENV_VAR, raising=False)
    return data


def test_resolution_order(tiny, tiny_zip, repo_data, monkeypatch, http_server, capsys):
    url = http_server(tiny_zip.read_bytes())
    other = tiny.parent / 'other'
    other.mkdir()
    (repo_data / 'PennFudanPed').mkdir(parents=True)
    (repo_data / 'PennFudanPed.zip').write_bytes(b'zip')
    monkeypatch.setenv(source.ENV_VAR, str(tiny))
    assert source.resolve_source(other, url) == other
    assert f'dataset: {other} (from --src)' in capsys.readouterr().err
    assert source.resolve_source(None, url) == tiny
    assert f'dataset: {tiny} (from $PENNFUDAN_SRC)' in capsys.readouterr().err
    monkeypatch.delenv(source.ENV_VAR)
    assert source.resolve_source(None, url) == repo_data / 'PennFudanPed'
    (repo_data / 'PennFudanPed').rmdir()
    assert source.resolve_source(None, url) == repo_data / 'PennFudanPed.zip'
    assert 'found in the repository' in capsys.readouterr().err
    (repo_data / 'PennFudanPed.zip').unlink()
    assert http_server.server.requests == 0
    assert source.resolve_source(None, url) == repo_data / 'PennFudanPed.zip'
    assert (repo_data / 'PennFudanPed.zip').read_bytes() == tiny_zip.read_bytes()
    assert f'(downloaded from {url}' in capsys.readouterr().err
    assert http_server.server.requests == 1


def test_resolution_errors(tmp_path, repo_data, monkeypatch):
    with pytest.raises(UserError, match='--src .*nope: no such file or folder'):
        source.resolve_source(tmp_path / 'nope')
    monkeypatch.setenv(source.ENV_VAR, str(tmp_path / 'gone'))
    with pytest.raises(UserError, match=r'PENNFUDAN_SRC=.*gone: no such file .* or unset it'):
        source.resolve_source()


def test_converter_without_src(tiny, repo_data, monkeypatch, tmp_path, cli):
    monkeypatch.setenv(source.ENV_VAR, str(tiny))
    result = cli('--out', tmp_path / 'out')
    assert result.code == 0, result.err
    assert f'dataset: {tiny} (from $PENNFUDAN_SRC)' in result.err
    assert len(load(tmp_path / 'out', 'all')['images']) == 18


def test_download_with_cache(tiny_zip, tmp_path, http_server, cli):
    url = http_server(tiny_zip.read_bytes())
    cache = tmp_path / 'cache'
    result = cli('--download', '--url', url, '--cache-dir', cache, '--out', tmp_path / 'out')
    assert result.code == 0, result.err
    assert (cache / 'PennFudanPed.zip').read_bytes() == tiny_zip.read_bytes()
    assert list(cache.iterdir()) == [cache / 'PennFudanPed.zip']
    assert len(load(tmp_path / 'out', 'all')['images']) == 18
    assert cli('--download', '--url', url, '--cache-dir', cache, '--out',
               tmp_path / 'out2').code == 0
    assert http_server.server.requests == 1  # the second run used the cached zip


def test_download_checksum(tiny_zip, tmp_path, http_server):
    payload = tiny_zip.read_bytes()
    url = http_server(payload)
    with pytest.raises(UserError, match=f'md5 .* not the published {"0" * 32}'):
        source.download(url, tmp_path / 'dl' / 'PennFudanPed.zip', md5='0' * 32)
    assert list((tmp_path / 'dl').iterdir()) == []
    dest = source.download(url, tmp_path / 'dl' / 'PennFudanPed.zip',
                           md5=hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload


def test_official_url_is_md5_checked(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(source, 'download', lambda url, dest, md5=None: calls.append(md5))
    source.fetch_zip(source.OFFICIAL_URL, tmp_path / 'a.zip')
    source.fetch_zip('http://mirror.invalid/PennFudanPed.zip', tmp_path / 'b.zip')
    assert calls == [source.OFFICIAL_MD5, None]


def test_download_interrupted(tiny_zip, tmp_path, http_server, cli):
    url = http_server(tiny_zip.read_bytes(), truncate=True)
    assert_failed(cli('--download', '--url', url, '--cache-dir', tmp_path / 'cache', '--out',
                      tmp_path / 'out'), f'cannot download {url}: interrupted', 'PENNFUDAN_SRC')
    assert list((tmp_path / 'cache').iterdir()) == [] and not (tmp_path / 'out').exists()


def test_download_not_a_zip(tmp_path, http_server, cli):
    url = http_server(b'<html>moved</html>')
    assert_failed(cli('--download', '--url', url, '--cache-dir', tmp_path / 'cache', '--out',
                      tmp_path / 'out'), 'did not return a zip archive')
    assert list((tmp_path / 'cache').iterdir()) == []


def test_download_offline(tmp_path, closed_port_url, cli):
    result = cli('--download', '--url', closed_port_url, '--cache-dir', tmp_path / 'cache',
                 '--out', tmp_path / 'out')
    assert_failed(result, f'cannot download {closed_port_url}', 'Connection refused',
                  'set PENNFUDAN_SRC=/path/to/PennFudanPed.zip')
    assert not (tmp_path / 'out').exists()
