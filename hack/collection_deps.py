"""Put the collections galaxy.yml depends on into a collections path, without Galaxy.

CI reaches PyPI and Debian only, not galaxy.ansible.com. The community `ansible` package
on PyPI is a wheel that carries most community collections under ansible_collections/,
so its wheel is downloaded (pip, no dependencies, never installed), only the
directories of the collections asked for are extracted, and the wheel is removed:

    python hack/collection_deps.py COLLECTIONS_PATH WHEEL_DIR 'ansible>=12.0,<13' community.libvirt

A stamp in COLLECTIONS_PATH records the requirement and the names, so a second run with
the same ones does nothing; another requirement or name list downloads and extracts again.
"""

import glob
import json
import os
import shutil
import subprocess
import sys
import zipfile

STAMP = '.collection-deps.json'


def _stamp_path(collections_path):
    return os.path.join(collections_path, STAMP)


def _target(collections_path, name):
    namespace, collection = name.split('.')
    return os.path.join(collections_path, 'ansible_collections', namespace, collection)


def _up_to_date(collections_path, requirement, names):
    try:
        with open(_stamp_path(collections_path), encoding='utf-8') as handle:
            stamp = json.load(handle)
    except (OSError, ValueError):
        return False
    return (stamp.get('requirement') == requirement and stamp.get('names') == names
            and all(os.path.isfile(os.path.join(_target(collections_path, name), 'MANIFEST.json')) for name in names))


def _download(wheel_dir, requirement):
    shutil.rmtree(wheel_dir, ignore_errors=True)
    os.makedirs(wheel_dir)
    subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps',
                    '--only-binary=:all:', '--dest', wheel_dir, requirement], check=True)
    wheels = glob.glob(os.path.join(wheel_dir, '*.whl'))
    if len(wheels) != 1:
        sys.exit('collection_deps: pip download %r gave %d wheels in %s, expected one' % (requirement, len(wheels), wheel_dir))
    return wheels[0]


def _extract(wheel, collections_path, name):
    prefix = 'ansible_collections/%s/' % name.replace('.', '/')
    target = _target(collections_path, name)
    with zipfile.ZipFile(wheel) as archive:
        members = [member for member in archive.namelist() if member.startswith(prefix) and not member.endswith('/')]
        if not any(member == prefix + 'MANIFEST.json' for member in members):
            sys.exit('collection_deps: %s has no collection %s (no %sMANIFEST.json); choose a release of the package '
                     'that ships it' % (os.path.basename(wheel), name, prefix))
        shutil.rmtree(target, ignore_errors=True)
        for member in members:
            # Paths are the archive's own below a fixed prefix: written below target only.
            relative = os.path.normpath(member[len(prefix):])
            if relative.startswith(('..', '/')):
                sys.exit('collection_deps: %s holds a path outside its collection: %s' % (os.path.basename(wheel), member))
            path = os.path.join(target, relative)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with archive.open(member) as source, open(path, 'wb') as destination:
                shutil.copyfileobj(source, destination)
    with open(os.path.join(target, 'MANIFEST.json'), encoding='utf-8') as handle:
        return json.load(handle)['collection_info']['version']


def main(argv):
    if len(argv) < 4:
        sys.exit('usage: collection_deps.py COLLECTIONS_PATH WHEEL_DIR REQUIREMENT NAMESPACE.NAME...')
    collections_path, wheel_dir, requirement, names = argv[0], argv[1], argv[2], sorted(argv[3:])
    for name in names:
        if name.count('.') != 1:
            sys.exit('collection_deps: %r is not a collection name (namespace.name)' % name)
    if _up_to_date(collections_path, requirement, names):
        return
    wheel = _download(wheel_dir, requirement)
    for name in names:
        version = _extract(wheel, collections_path, name)
        print('collection_deps: %s %s from %s' % (name, version, os.path.basename(wheel)))
    with open(_stamp_path(collections_path), 'w', encoding='utf-8') as handle:
        json.dump({'requirement': requirement, 'names': names, 'wheel': os.path.basename(wheel)}, handle)
    # 50 MB of collections nobody reads; the next requirement downloads its own.
    shutil.rmtree(wheel_dir, ignore_errors=True)


if __name__ == '__main__':
    main(sys.argv[1:])
