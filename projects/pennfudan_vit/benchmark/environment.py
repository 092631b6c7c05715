"""The machine and library versions a benchmark ran on."""
import os
import platform
from typing import Any, Dict, Optional


def device_name(device: str) -> str:
    """The GPU's name, or the CPU model."""
    import torch
    if device == 'cuda':
        return torch.cuda.get_device_name(0)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> Optional[float]:
    """The 1-minute load average (None where the OS has none)."""
    return os.getloadavg()[0] if hasattr(os, 'getloadavg') else None


def environment(device: str) -> Dict[str, Any]:
    """Library versions, device, CPUs, threads and load, for the JSON record."""
    import mmcv
    import mmdet
    import mmengine
    import torch
    versions = dict(python=platform.python_version(), torch=torch.__version__,
                    mmcv=mmcv.__version__, mmdet=mmdet.__version__,
                    mmengine=mmengine.__version__, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version() if device == 'cuda' else None)
    try:
        import mmpretrain
        versions['mmpretrain'] = mmpretrain.__version__
    except ImportError:
        versions['mmpretrain'] = None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return dict(versions=versions, device_name=device_name(device), platform=platform.platform(),
                cpu_count=cpus, threads=torch.get_num_threads(),
                interop_threads=torch.get_num_interop_threads(),
                load_avg_1m_start=load_average())
