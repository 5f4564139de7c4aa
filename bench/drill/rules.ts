/**
 * The rules the drill's daemon runs, and the names the checks find their
 * effects by. Every new lead gets four effects, one of each recovery kind of
 * the effect ledger (docs/engine.md): a task and a comment (looked up after a
 * crash by title or text), a contact (looked up by ORIGIN_ID) and an update of
 * the lead that links the contact (re-sent: idempotent), which also needs the
 * create's answer first (a second stage). Form posts become leads, which come
 * back as ONCRMLEADADD and get the same four. A third rule only soaks up the
 * hostile payloads' well-formed requests: its condition never holds.
 */

/** Environment variables of the rules' webhook secrets. */
export const FORM_SECRET_ENV = 'DRILL_FORM_SECRET';
export const SINK_SECRET_ENV = 'DRILL_SINK_SECRET';

/** Paths the daemon serves for the rules (under /hooks). */
export const FORM_PATH = '/hooks/drill/form';
export const SINK_PATH = '/hooks/drill/sink';

/** Title of the task the lead rule creates for lead `id`. */
export const taskTitle = (id: string): string => `Drill call ${id}`;
/** Text of the comment the lead rule adds to lead `id`. */
export const commentText = (id: string): string => `Drill follow-up ${id}`;
/** Name of the contact the lead rule creates for lead `id`. */
export const contactName = (id: string): string => `Drill contact ${id}`;
/** Title of the lead form post `n` becomes. */
export const formLeadTitle = (n: number): string => `Drill form ${n}`;

export const LEAD_RULE = `id: drill-lead
description: The drill's follow-up of every new lead, one effect of each recovery kind.
trigger: { event: ONCRMLEADADD }
actions:
  - task: { title: "Drill call {{ lead.ID }}", responsible: 1, bind: { entity: lead, id: "{{ lead.ID }}" } }
  - comment: { entity: lead, id: "{{ lead.ID }}", text: "Drill follow-up {{ lead.ID }}" }
  - create: { entity: contact, as: contact, fields: { NAME: "Drill contact {{ lead.ID }}", LAST_NAME: "{{ lead.LAST_NAME }}" } }
  - update: { entity: lead, id: "{{ lead.ID }}", fields: { CONTACT_ID: "{{ contact }}" } }
`;

export const FORM_RULE = `id: drill-form
description: A form post becomes a lead (which comes back as ONCRMLEADADD).
env: [${FORM_SECRET_ENV}]
trigger: { webhook: { path: /drill/form, secret: "{{ env.${FORM_SECRET_ENV} }}" } }
actions:
  - create:
      entity: lead
      fields:
        TITLE: "Drill form {{ request.body.n }}"
        NAME: "{{ request.body.name }}"
        SOURCE_ID: WEB
        EMAIL: [{ VALUE: "{{ request.body.email }}", VALUE_TYPE: WORK }]
        PHONE: [{ VALUE: "{{ request.body.phone }}", VALUE_TYPE: WORK }]
        COMMENTS: "{{ request.body.message }}"
`;

export const SINK_RULE = `id: drill-sink
description: Takes the hostile payloads that parse; never acts.
env: [${SINK_SECRET_ENV}]
trigger: { webhook: { path: /drill/sink, secret: "{{ env.${SINK_SECRET_ENV} }}" } }
condition: { "==": [{ var: request.body.drill_never }, "never-sent-by-the-drill"] }
actions:
  - comment: { entity: lead, id: "1", text: "unreachable" }
`;

/** The rule files of the drill's rules directory. */
export const DRILL_RULE_FILES: Record<string, string> = {
  'drill-lead.yaml': LEAD_RULE,
  'drill-form.yaml': FORM_RULE,
  'drill-sink.yaml': SINK_RULE,
};
