"""What this machine's CPU offers, read once: its model and its native low-precision
units. Torch-free, so the deploy runtime and the benchmark records can use it too."""
import functools
import os
import platform
from typing import Any, Dict

# /proc/cpuinfo flags (x86 'flags', aarch64 'Features') of units that run bf16 / int8
# matrix products natively; without them torch emulates bf16, which is slower than fp32
BF16_FLAGS = ('amx_bf16', 'avx512_bf16', 'bf16')
INT8_FLAGS = ('amx_int8', 'avx512_vnni', 'avx_vnni', 'i8mm')


@functools.lru_cache(maxsize=None)
def cpu_info() -> Dict[str, Any]:
    """``model`` (the CPU's name), ``cpus``, and the flags of its native ``bf16`` and
    ``int8`` units (empty lists where it has none)."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open('/proc/cpuinfo') as f:
            fields = dict(line.split(':', 1) for line in f if ':' in line)
    except OSError:
        fields = {}
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    model = fields.get('model name', model)
    flags = set((fields.get('flags') or fields.get('Features') or '').split())
    return dict(model=model, cpus=os.cpu_count(), bf16=[f for f in BF16_FLAGS if f in flags],
                int8=[f for f in INT8_FLAGS if f in flags])


def describe_cpu() -> str:
    """One line for logs and records, e.g. ``Intel(R) Xeon(R) Processor, 2 CPUs, bf16 units:
    amx_bf16 avx512_bf16, int8 units: amx_int8 avx512_vnni``."""
    info = cpu_info()
    units = ', '.join(f'{kind} units: {" ".join(info[kind]) or "none"}' for kind in ('bf16',
                                                                                      'int8'))
    return f'{info["model"]}, {info["cpus"]} CPUs, {units}'
