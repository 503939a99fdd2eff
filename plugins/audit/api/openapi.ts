/**
 * The OpenAPI 3 description of the audit API, written by hand from this one table (the
 * parameters) and the event schema below: `/api/docs/openapi.json` serves it and `/api/docs`
 * renders it as a page. A test checks that every parameter listed here is accepted by the API
 * and that the DTO accepts no other.
 */
export interface ApiParameter {
  name: string;
  description: string;
  example?: string;
  schema: Record<string, unknown>;
}

export const AUDIT_API_PARAMETERS: ApiParameter[] = [
  {
    name: 'tag',
    description: 'Only this event type.',
    example: 'account:login:failure',
    schema: { type: 'string' },
  },
  {
    name: 'actor',
    description: 'Only actions by this username (or system job name).',
    schema: { type: 'string' },
  },
  {
    name: 'user',
    description: 'Only events about this account (username or id).',
    schema: { type: 'string' },
  },
  {
    name: 'project',
    description: 'Only events of this project (its name when the event happened).',
    schema: { type: 'string' },
  },
  {
    name: 'ip',
    description: 'Only events from this IP address or CIDR network.',
    example: '10.0.0.0/8',
    schema: { type: 'string' },
  },
  {
    name: 'since',
    description: 'From this date or time (ISO 8601), inclusive.',
    example: '2026-01-01',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'until',
    description: 'Before this time; a bare date includes that whole day.',
    schema: { type: 'string', format: 'date-time' },
  },
  {
    name: 'q',
    description: '`key=value` matched in `additional`, or words searched in it.',
    example: 'filename=acme-1.0.tar.gz',
    schema: { type: 'string' },
  },
  {
    name: 'limit',
    description: 'Events per page, 1 to 500 (default 100).',
    schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 },
  },
  {
    name: 'cursor',
    description: 'The `next` value of the previous page; omit for the newest events.',
    schema: { type: 'string' },
  },
];

const nullableString = { type: 'string', nullable: true };

export const AUDIT_EVENT_SCHEMA = {
  type: 'object',
  required: ['id', 'tag', 'occurred_at', 'description', 'actor_kind', 'additional'],
  properties: {
    id: { type: 'integer', description: 'Monotonic event id (the global order).' },
    tag: { type: 'string', description: 'Event type, from the audit catalogue.' },
    occurred_at: { type: 'string', format: 'date-time' },
    description: { type: 'string', description: 'The event in plain words, as the pages show it.' },
    actor_name: nullableString,
    actor_kind: { type: 'string', enum: ['user', 'token', 'admin', 'system', 'anonymous'] },
    actor_token_name: { ...nullableString, description: 'The API token the actor used, if any.' },
    user_id: { ...nullableString, description: 'The account the event concerns.' },
    project_name: nullableString,
    ip: {
      ...nullableString,
      description: 'Null where redacted (someone else acted on your account).',
    },
    user_agent: nullableString,
    request_id: { ...nullableString, description: 'Admins only.' },
    additional: {
      type: 'object',
      additionalProperties: true,
      description: 'Names, versions, filenames: never a secret.',
    },
  },
};

const error = (description: string) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
});

/** The version of the API's contract (the `v1` of its path), not of Larder. */
export const AUDIT_API_VERSION = '1.0.0';

export function auditOpenApi(baseUrl: string): Record<string, unknown> {
  return {
    openapi: '3.0.3',
    info: {
      title: 'Larder audit API',
      version: AUDIT_API_VERSION,
      description:
        'Read the audit log. Authenticate with an API token over HTTP Basic (username ' +
        '`__token__`, password the token). Administrators see every event; other accounts see ' +
        "their own account's events (account-wide tokens and sessions) and the events of the " +
        'projects they own (a project-scoped token: only those of its projects that they own).',
    },
    servers: [{ url: baseUrl }],
    components: {
      securitySchemes: { token: { type: 'http', scheme: 'basic' } },
      schemas: { AuditEvent: AUDIT_EVENT_SCHEMA },
    },
    security: [{ token: [] }],
    paths: {
      '/api/v1/audit/events': {
        get: {
          operationId: 'listAuditEvents',
          summary: 'Audit events, newest first, one page at a time',
          parameters: AUDIT_API_PARAMETERS.map((p) => ({
            name: p.name,
            in: 'query',
            required: false,
            description: p.description,
            schema: p.schema,
            ...(p.example ? { example: p.example } : {}),
          })),
          responses: {
            '200': {
              description: 'A page of events and the cursor of the next (older) page.',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['events', 'next'],
                    properties: {
                      events: { type: 'array', items: { $ref: '#/components/schemas/AuditEvent' } },
                      next: {
                        ...nullableString,
                        description: 'Pass as `cursor`; null on the last page.',
                      },
                    },
                  },
                },
              },
            },
            '400': error('A filter, the limit or the cursor is invalid (the message names it).'),
            '401': error('No credentials, or a token that is unknown, revoked or expired.'),
          },
        },
      },
    },
  };
}
