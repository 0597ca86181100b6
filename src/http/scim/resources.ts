import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from "../../scim/schema/resource-types";
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, replaceGroup } from "../../services/groups";
import { createUser, deleteUser, getUser, listUsers, patchUser, replaceUser } from "../../services/users";
import { resourceRoutes } from "./resource-routes";

/** `/Users`: one D1 round trip per operation after authentication, two for PATCH (read, then a conditional write). */
export const userRoutes = resourceRoutes(USER_RESOURCE_TYPE, {
  list: listUsers,
  get: getUser,
  create: createUser,
  replace: replaceUser,
  patch: patchUser,
  remove: deleteUser,
});

/** `/Groups`: one D1 round trip per operation after authentication, PATCH included. */
export const groupRoutes = resourceRoutes(GROUP_RESOURCE_TYPE, {
  list: listGroups,
  get: getGroup,
  create: createGroup,
  replace: replaceGroup,
  patch: patchGroup,
  remove: deleteGroup,
});
