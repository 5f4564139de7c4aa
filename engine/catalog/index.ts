/** The Bitrix24 catalog (catalog/): method and event look-ups, and the scopes rules need (`rules scopes`, `rules mcp`). */
export { catalog, DOCS_BASE_URL, scopeAlternatives, type Catalog, type MethodEntry, type MethodParam } from './catalog-data.js';
export { eventScope, type EventScope } from './event-scopes.js';
export { eventInfo, listEvents, methodInfo, searchCatalog, type EventInfo, type MethodInfo, type SearchHit } from './lookup.js';
export { ruleUses, type MethodUse, type RuleUses } from './rule-uses.js';
export { grants, scopesOf, type NeededScope, type ScopeReport } from './rule-scopes.js';
export { checkGrantedScopes, grantedScopes, missingScopes, type GrantedScopes } from './portal-scopes.js';
