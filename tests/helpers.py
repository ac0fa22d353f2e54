"""Test-only helpers, kept out of the package: synthetic photo pairs with a known homography and the error of a
registration against it. The notebooks that check `ttsr.register`, `ttsr.complete` and `ttsr.realpairs` import them
after putting this folder on `sys.path` (tests run by pytest have it there already)."""
from __future__ import annotations
import math
import cv2
import numpy as np
from ttsr.register import map_points, scale_h


def synthetic_pair(photo:np.ndarray, H_true:np.ndarray, wide_scale:float=0.6, tele_shape=(240, 320)):
    "(wide, tele): `photo` shrunk by `wide_scale`, and a tele rendered so that tele pixel -> wide pixel is `H_true`."
    wide = cv2.resize(photo, (round(photo.shape[1] * wide_scale), round(photo.shape[0] * wide_scale)),
                      interpolation=cv2.INTER_AREA)
    to_photo = np.linalg.inv(scale_h(wide.shape[1] / photo.shape[1])) @ H_true
    tele = cv2.warpPerspective(photo, to_photo, tele_shape[::-1], flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_REFLECT)
    return wide, tele


def similarity_h(zoom:float, angle_deg:float, center, tele_shape, tilt:float=0.0) -> np.ndarray:
    "Tele -> wide homography: tele centre at `center`, scale 1/zoom, rotation, and a perspective `tilt` (1/px)."
    a, (h, w) = math.radians(angle_deg), tele_shape[:2]
    C = np.array([[1, 0, -(w - 1) / 2], [0, 1, -(h - 1) / 2], [0, 0, 1.]])
    R = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.]]) / zoom
    R[2, 2] = 1
    P = np.array([[1, 0, 0], [0, 1, 0], [tilt, 0, 1.]])
    return np.array([[1, 0, center[0]], [0, 1, center[1]], [0, 0, 1.]]) @ R @ P @ C


def max_error_px(H_a:np.ndarray, H_b:np.ndarray, tele_shape) -> float:
    "Largest distance (wide pixels) between where two tele -> wide homographies put the tele's pixels (8 px grid)."
    h, w = tele_shape[:2]
    ys, xs = np.mgrid[0:h:8, 0:w:8]
    pts = np.stack([xs.ravel(), ys.ravel()], 1)
    return float(np.sqrt(((map_points(H_a, pts) - map_points(H_b, pts)) ** 2).sum(1)).max())
