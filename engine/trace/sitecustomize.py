# concviz trace's start-up hook, first on the traced interpreter's PYTHONPATH: CPython does not
# give its native threads names (before 3.14), so each Python thread names its own lane after
# itself (MainThread, Thread-1 (spin)) through the preloaded library. Then the next
# sitecustomize on the path, if any, runs as it would have.
import sys


def _concviz_name_threads():
    try:
        import ctypes
        import threading

        fn = ctypes.CDLL(None).concviz_trace_name_thread
    except (ImportError, OSError, AttributeError):
        return  # not traced, or no ctypes: the lanes keep their comm:tid names
    fn.argtypes = [ctypes.c_char_p]
    fn.restype = None

    def name(text):
        fn(text.encode("utf-8", "replace")[:31])

    name(threading.main_thread().name)
    inner = threading.Thread._bootstrap_inner

    def _bootstrap_inner(self):
        name(self.name)
        return inner(self)

    threading.Thread._bootstrap_inner = _bootstrap_inner


def _concviz_chain():
    import importlib.machinery
    import importlib.util
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or ".") != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec and spec.loader:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_concviz_name_threads()
_concviz_chain()
