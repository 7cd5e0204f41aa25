"""A real browser on the web app: Debian's Chromium, driven by Selenium, headless.

Each `Browser` is one person's browser (its own cookies). `check_page` saves a screenshot of
the page at a phone's and a desktop's size under test-artifacts/screenshots, asserts that the
page does not scroll sideways on the phone, and runs axe-core in it: a serious or critical
accessibility violation fails the test.
"""
import json
import os
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from tests.broker import eventually
from tests.e2e.system import DEMO_PASSWORD, ROOT

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
AXE = ROOT / "tests" / "e2e" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE, DESKTOP = (360, 740), (1280, 800)
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ["violations"]}).then(result => done(result.violations
  .filter(v => v.impact === "serious" || v.impact === "critical")
  .map(v => ({id: v.id, impact: v.impact, help: v.help,
              nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))));
"""


def missing_tools():
    """What the browser tests need and this machine lacks (scripts/test installs them)."""
    return [str(path) for path in (Path(CHROMIUM), Path(CHROMEDRIVER), AXE) if not path.exists()]


class Browser:
    def __init__(self, system, name):
        os.environ.setdefault("SE_OFFLINE", "true")  # never download a browser or a driver
        options = Options()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--lang=id-ID"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {"intl.accept_languages": "id-ID,id"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_script_timeout(30)
        self.system, self.name = system, name
        self.resize(*DESKTOP)

    def close(self):
        self.driver.quit()

    def resize(self, width, height):
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    # -- moving around -----------------------------------------------------------------------

    def open(self, path):
        self.driver.get(self.system.root + path)
        return self

    @property
    def path(self):
        return self.driver.current_url.removeprefix(self.system.root)

    def sign_in(self, username, password=DEMO_PASSWORD):
        self.open("/login")
        self.type("#username", username)
        self.type("#password", password)
        self.press("Masuk")
        return self

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, css, value):
        element = self.find(css)
        element.clear()
        element.send_keys(value)

    def choose(self, name, value):
        element = self.find(f"input[name='{name}'][value='{value}']")
        self.driver.execute_script("arguments[0].scrollIntoView()", element)
        element.click()

    def select(self, css, value):
        Select(self.find(css)).select_by_value(value)

    def attach(self, css, path):
        self.find(css).send_keys(str(path))

    def press(self, label):
        """Click the button (or link) that reads `label`, and wait for the page it leads to."""
        for element in self.all("button, a.button"):
            if element.text.strip() == label:
                self.driver.execute_script("arguments[0].scrollIntoView(); "
                                           "window.beforePress = true", element)
                element.click()
                WebDriverWait(self.driver, 20, ignored_exceptions=(WebDriverException,)).until(
                    lambda driver: driver.execute_script(
                        "return !window.beforePress && document.readyState === 'complete'"))
                return self
        raise AssertionError(f"{self.name}: no button '{label}' on {self.path}")

    def text(self, css="main"):
        return self.find(css).text

    def errors_of(self, css):
        """The error messages shown next to a field."""
        field = self.find(css).find_element(By.XPATH, "ancestor::*[contains(@class, 'field') "
                                                      "or self::fieldset][1]")
        return [item.text for item in field.find_elements(By.CSS_SELECTOR, ".errors li")]

    def wait_for_text(self, words, css="main", reload=True, timeout=20):
        """Wait until the page shows `words`, reloading it meanwhile when `reload`."""
        def shown():
            if reload:
                self.driver.refresh()
            assert words in self.text(css), f"{self.name} does not show {words!r} on {self.path}"
            return True
        return eventually(shown, timeout=timeout, interval=0.3)

    # -- what every page must be -------------------------------------------------------------

    def check_page(self, name):
        """Screenshots at both sizes; no sideways scrolling on a phone; no serious or critical
        axe-core violation."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width, height in (PHONE, DESKTOP):
            self.resize(width, height)
            self.driver.refresh()
            self.driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}x{height}.png"))
            if (width, height) == PHONE:
                wide = self.driver.execute_script(
                    "return document.documentElement.scrollWidth")
                assert wide <= width, f"{name} scrolls sideways at {width} px ({wide} px wide)"
        self.driver.execute_script(AXE.read_text())
        violations = self.driver.execute_async_script(RUN_AXE)
        assert not violations, f"{name}: " + json.dumps(violations, indent=1)
        return self
