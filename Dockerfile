# Followthrough on the official Airflow image: the pinned runtime set, then the package itself.
#   docker build -t followthrough-airflow .        (docker compose builds it too: see docker-compose.yaml)
FROM apache/airflow:3.3.2-python3.11

# The pinned set first, in its own layer: it changes only with requirements.txt. It names
# apache-airflow==3.3.2 itself, so pip cannot move the image's Airflow.
COPY --chown=airflow:0 requirements.txt /opt/followthrough/requirements.txt
RUN pip install --no-cache-dir -r /opt/followthrough/requirements.txt

# The package (include/followthrough) from its own pyproject; --no-deps: the pinned set has them all.
COPY --chown=airflow:0 pyproject.toml README.md /opt/followthrough/
COPY --chown=airflow:0 include /opt/followthrough/include
RUN pip install --no-cache-dir --no-deps /opt/followthrough

# DAGs, plugins, the policy and the demo export are baked in; docker-compose.yaml mounts the
# working copies over them, so an edit needs no rebuild (a change to include/ does).
COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 config /opt/followthrough/config
COPY --chown=airflow:0 data/demo /opt/followthrough/data/demo

ENV FOLLOWTHROUGH_POLICY=/opt/followthrough/config/policy.yaml \
    FOLLOWTHROUGH_HOME=/opt/airflow/followthrough \
    FOLLOWTHROUGH_STAGING_URL=file:///opt/airflow/staging \
    AIRFLOW__CORE__HOSTNAME_CALLABLE=followthrough.deploy.hostname
