"""What a browser would send for a page's form, read from the page's HTML (not from the form
objects in the view's context): a value the browser cannot show is not sent.

`form_data(html)` follows the HTML rules a browser applies when it submits a form unchanged:
- checkboxes and radios only when checked; disabled controls and buttons never;
- a `<select>` sends its selected options, or its first option when none is selected;
- a `<textarea>` loses one newline right after its start tag and sends line breaks as CRLF;
- a date, datetime-local or number input whose value is not in the format the input type
  needs (a date as "27/10/1962" rather than "1962-10-27") is dropped: it shows empty and
  sends "".
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# The value sanitisation algorithms of the HTML standard, for the input types forms here use.
_VALID = {
    "date": re.compile(r"\d{4,}-\d\d-\d\d"),
    "datetime-local": re.compile(r"\d{4,}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,3})?)?"),
    "number": re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?"),
}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._textarea: list | None = None  # [name, text]
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: (value or "") for key, value in attrs}
        if tag == "form":
            self._form = {"method": a.get("method", "get").lower(), "fields": []}
            self.forms.append(self._form)
            return
        if self._form is None or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            value = a.get("value", "")
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form["fields"].append((name, value or "on"))
                return
            if kind in _VALID and value and not _VALID[kind].fullmatch(value):
                value = ""
            self._form["fields"].append((name, value))
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in a, "options": [], "selected": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "text": "", "selected": "selected" in a}

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data
        elif self._option is not None:
            self._option["text"] += data

    def _end_option(self) -> None:
        if self._option is not None and self._select is not None:
            option = self._option
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self._select["options"].append(value)
            if option["selected"]:
                self._select["selected"].append(value)
        self._option = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, text = self._textarea
            text = text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
            self._form["fields"].append((name, text.replace("\r\n", "\n").replace("\n", "\r\n")))
            self._textarea = None
        elif tag == "option":
            self._end_option()
        elif tag == "select" and self._select is not None and self._form is not None:
            self._end_option()
            select = self._select
            chosen = select["selected"] or ([] if select["multiple"] else select["options"][:1])
            if not select["multiple"]:
                chosen = chosen[-1:]
            self._form["fields"].extend((select["name"], value) for value in chosen)
            self._select = None


def form_data(html: str, containing: str | None = None) -> dict[str, str | list[str]]:
    """The fields of the page's largest POST form (or the first with a field named
    `containing`), as a dict for the test client: a name sent more than once maps to a list."""
    parser = _Forms()
    parser.feed(html)
    parser.close()
    forms = [form for form in parser.forms if form["method"] == "post"]
    if containing is not None:
        forms = [form for form in forms if any(name == containing for name, _ in form["fields"])]
    assert forms, "no such form on the page"
    form = forms[0] if containing is not None else max(forms, key=lambda f: len(f["fields"]))
    data: dict[str, str | list[str]] = {}
    for name, value in form["fields"]:
        if name in data:
            previous = data[name]
            data[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[name] = value
    return data
