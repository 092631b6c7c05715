"""Copies of the converted data whose fold files can be damaged freely."""
import os
import shutil

import pytest


@pytest.fixture
def data_copy(coco_data, tmp_path):
    """The converted data's annotations, copied; its images, linked."""
    data = tmp_path / 'data'
    shutil.copytree(coco_data / 'annotations', data / 'annotations')
    os.symlink((coco_data / 'PNGImages').resolve(), data / 'PNGImages')
    return data
