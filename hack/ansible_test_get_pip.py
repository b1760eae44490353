"""Offline stand-in for the get-pip.py that ansible-test downloads.

`ansible-test ... --venv` makes each virtual environment with `--without-pip` and then
runs get-pip.py, fetched from ci-files.testing.ansible.com, which CI cannot reach. It
looks in ~/.ansible/test/cache/get_pip_<version>.py first, so this file goes there:

    python hack/ansible_test_get_pip.py --install   # copy into ansible-test's cache

Run by ansible-test, it receives pip's install arguments plus get-pip's own
--no-setuptools / --no-wheel, and does the same with the interpreter's ensurepip.
"""

import os
import re
import shutil
import subprocess
import sys

GET_PIP_FLAGS = ('--no-setuptools', '--no-wheel')


def install_into_cache():
    import ansible_test  # pylint: disable=import-outside-toplevel

    source = os.path.join(os.path.dirname(ansible_test.__file__), '_internal', 'python_requirements.py')
    with open(source, encoding='utf-8') as handle:
        match = re.search(r"\bpip='([0-9.]+)'", handle.read())
    if not match:
        sys.exit(f'cannot find the pip version ansible-test bootstraps in {source}')
    version = match.group(1)
    cache = os.path.expanduser(f'~/.ansible/test/cache/get_pip_{version.replace(".", "_")}.py')
    if os.path.exists(cache):
        return
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    shutil.copyfile(__file__, cache)
    print(f'ansible-test: pip {version} bootstrap served by {cache} (offline ensurepip)')


def bootstrap():
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_FLAGS]
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)


if __name__ == '__main__':
    if sys.argv[1:] == ['--install']:
        install_into_cache()
    else:
        bootstrap()
