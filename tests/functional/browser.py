# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real browser for the HTML reports: Debian's headless Chromium, driven by selenium
through Debian's chromedriver (bindep.txt, test profile).

The driver is given explicitly, so selenium never looks for one on the network. The
browser's console is read after every page: a report that logs an error fails its test.
Screenshots go to tests/output/browser/, which CI keeps with the other test output.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

import pytest

CHROMIUM = '/usr/bin/chromium'
CHROMEDRIVER = '/usr/bin/chromedriver'
SCREENSHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'output', 'browser')


class Browser(object):
    """One headless Chromium; ``open`` loads a report file and says how long it took."""

    def __init__(self, driver):
        self.driver = driver

    def open(self, path):
        """Loads ``path`` (a file) and returns the seconds until its load event ended."""
        self.driver.get_log('browser')  # what an earlier page logged is not this one's
        start = time.perf_counter()
        self.driver.get('file://' + os.path.abspath(path))
        elapsed = time.perf_counter() - start
        return elapsed

    def console_errors(self):
        """The console entries of level SEVERE since the last call (script errors, CSP
        refusals, resources that failed to load)."""
        return [entry for entry in self.driver.get_log('browser') if entry.get('level') == 'SEVERE']

    def screenshot(self, name):
        if not os.path.isdir(SCREENSHOTS):
            os.makedirs(SCREENSHOTS)
        path = os.path.join(SCREENSHOTS, '%s.png' % name)
        self.driver.set_window_size(1400, 1000)
        self.driver.save_screenshot(path)
        return path

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def run(self, script, *args):
        return self.driver.execute_script(script, *args)


def start_browser():
    """A headless Chromium, or a failure naming what is missing: a suite that skips its
    browser tests proves nothing about the reports."""
    for path, package in ((CHROMIUM, 'chromium'), (CHROMEDRIVER, 'chromium-driver')):
        if not os.access(path, os.X_OK):
            pytest.fail('%s is missing: install the Debian package %s (bindep.txt, test profile; `make deps-test`)'
                        % (path, package))
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                     '--allow-file-access-from-files', '--window-size=1400,1000'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return Browser(webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options))


@pytest.fixture(scope='session')
def browser():
    started = start_browser()
    try:
        yield started
    finally:
        started.driver.quit()
