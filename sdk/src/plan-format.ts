/** The version of the plan file's format (Plan's `formatVersion`), apart from its schema: the planner writes it without typebox. */
export const PLAN_FORMAT_VERSION = 1
