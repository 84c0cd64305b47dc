-- Task templates (`kind: TaskTemplate`): named task settings a workflow's tasks extend. Versioned
-- like workflows; a workflow version stores its tasks already resolved, so nothing references these.
CREATE TABLE task_templates (
  name            text PRIMARY KEY,
  current_version integer NOT NULL,
  labels          jsonb NOT NULL DEFAULT '{}',
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
);

-- Immutable: a row is never updated.
CREATE TABLE task_template_versions (
  name        text NOT NULL REFERENCES task_templates (name) ON DELETE CASCADE,
  version     integer NOT NULL,
  spec        jsonb NOT NULL,
  digest      text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);
