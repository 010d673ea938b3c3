"""Faces: detection (MTCNN weights from the facenet-pytorch wheel), aligned crops, face-mode translation and the
face-crop data preparation for training folders.

- :mod:`.mtcnn`: the three networks and their weights (``weights_only=True``, checksums);
- :mod:`.detect`: :class:`FaceDetector` (boxes, five landmarks, probabilities; batched; big photos downscaled);
- :mod:`.align`: eye-level square crops with a margin, the inverse warp and the feathered paste-back;
- :mod:`.translator`: :class:`FaceTranslator`, the Translator used for models whose metadata says ``input: face``;
- :mod:`.prep`: ``prepare_faces`` (the ``ganstudio faces prep`` command and the trainers' ``face_crop`` option).
"""
from .align import Alignment, align_face, paste_back, warp_crop  # noqa: F401
from .detect import DetectOptions, Face, FaceDetector  # noqa: F401
from .mtcnn import DetectorUnavailable  # noqa: F401
