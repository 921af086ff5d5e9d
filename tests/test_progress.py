"""Progress draws a bar on a terminal and stays quiet otherwise."""

import io

from dpsynth.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_quiet_when_not_a_terminal():
    stream = io.StringIO()
    progress = Progress(3, stream=stream)
    progress.step("one")
    progress.close()
    assert stream.getvalue() == ""


def test_bar_on_a_terminal():
    stream = Terminal()
    progress = Progress(2, stream=stream)
    progress.step("fitting")
    progress.close()
    assert "fitting" in stream.getvalue() and "2/2" in stream.getvalue()
