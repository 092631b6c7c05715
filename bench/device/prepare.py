"""Fill .dev/ for ``h200_check.sh``: what a lent device machine (Python 3.12, CUDA torch,
no package registry, at most 64 MiB carried) needs from here.

    .venv/bin/python bench/device/prepare.py CHECKPOINT [--data-root data/pennfudan]

- .dev/whl: py3.12 wheels of the OpenMMLab stack and its small pure dependencies
- .dev/src: the mmcv 2.1.0 sdist (built there)
- .dev/data/pennfudan: the converted splits with JPEG (quality 95) copies of the images,
  a quarter of the PNGs' size
- .dev/ckpt: CHECKPOINT's weights in fp16 (half the size; tested here too, so the GPU's
  AP is compared with the CPU's on the same weights and images)
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys

WHEELS = ['mmengine==0.10.7', 'mmdet==3.3.0', 'mmpretrain==1.2.0', 'pycocotools==2.0.10',
          'shapely', 'terminaltables', 'addict', 'yapf', 'termcolor', 'setuptools==69.5.1',
          'platformdirs', 'mat4py', 'model-index==0.1.11', 'ordered-set',
          'importlib_metadata==10.2.0', 'lazy_importer==0.1.0']
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64']


def pip_download(args):
    subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', *args],
                   check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', default='data/pennfudan')
    parser.add_argument('--dev', default='.dev')
    args = parser.parse_args(argv)
    dev = args.dev
    pip_download(['--only-binary=:all:', '--python-version', '3.12', '--implementation', 'cp',
                  *[a for p in PLATFORMS for a in ('--platform', p)], '-d', f'{dev}/whl',
                  *WHEELS])
    pip_download(['--no-build-isolation', '--no-binary', ':all:', '-d', f'{dev}/src',
                  'mmcv==2.1.0'])

    import torch
    from PIL import Image
    out = f'{dev}/data/pennfudan'
    os.makedirs(f'{out}/annotations', exist_ok=True)
    for split in ('train', 'val', 'test'):
        with open(f'{args.data_root}/annotations/instances_{split}.json') as f:
            coco = json.load(f)
        for image in coco['images']:
            jpg = osp.splitext(image['file_name'])[0] + '.jpg'
            os.makedirs(osp.dirname(f'{out}/{jpg}'), exist_ok=True)
            Image.open(f"{args.data_root}/{image['file_name']}").convert('RGB').save(
                f'{out}/{jpg}', quality=95)
            image['file_name'] = jpg
        with open(f'{out}/annotations/instances_{split}.json', 'w') as f:
            json.dump(coco, f)
    ckpt = torch.load(args.checkpoint, map_location='cpu', weights_only=False)
    state = {k: v.half() if v.is_floating_point() else v for k, v in ckpt['state_dict'].items()}
    os.makedirs(f'{dev}/ckpt', exist_ok=True)
    torch.save({'state_dict': state, 'meta': ckpt.get('meta', {})}, f'{dev}/ckpt/weights_fp16.pth')
    print(f'{dev}/ filled; the CPU reference: tools/test.py '
          f'configs/deit-tiny_mrcnn_pennfudan_cpu.py {dev}/ckpt/weights_fp16.pth --data-root {out}')


if __name__ == '__main__':
    main()
