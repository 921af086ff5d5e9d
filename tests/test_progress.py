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


def test_work_inside_a_step_moves_a_second_bar_and_costs_nothing_unwatched():
    from dpsynth.progress import advance

    advance(1, 10, "estimation iterations")  # no active Progress: nothing happens
    stream = Terminal()
    progress = Progress(2, stream=stream)
    progress.step("fitting mst")
    for done in range(1, 4):
        advance(done, 3, "estimation iterations")
    progress.close()
    text = stream.getvalue()
    assert "estimation iterations" in text and "/3 [" in text and "<" in text  # an ETA column
    advance(1, 10, "after close")
    assert "after close" not in stream.getvalue()


def test_log_lines_go_above_the_bar():
    import logging

    from dpsynth.progress import BarSafeHandler

    stream = Terminal()
    handler = BarSafeHandler(stream)
    record = logging.LogRecord("dpsynth", logging.WARNING, __file__, 1, "a warning", None, None)
    progress = Progress(2, stream=stream)
    progress.step("fitting")
    handler.emit(record)
    progress.close()
    text = stream.getvalue()
    assert "a warning\n" in text and text.index("a warning") < text.rindex("done")  # drawn again below it
