"""The three roles as groups with their permissions: sales, manager, administrator.

Created by the migration chain/0003_roles, and checked again after every `migrate` and
`flush` (see apps.py), because a flush empties the groups table while the permissions
come back by themselves.
"""

CHAIN_PARTS = ["chain", "stage", "chainlink", "contact", "influence", "worksheetanswer"]
CATALOGS = ["actorkind", "actor", "successfactor", "team"]
VERBS = ("view", "add", "change", "delete")

ROLES = {
    # Works on its own teams' chains; reads the customer analysis.
    "sales": [
        *(f"chain.{verb}_{model}" for model in CHAIN_PARTS for verb in VERBS),
        "chain.view_actor",
        "chain.add_actor",
        "chain.view_reviewcomment",
        "chain.change_reviewcomment",
        "chain.view_chainsnapshot",
        "customers.view_customer",
        "customers.view_assessment",
    ],
    # Sees every chain, reviews it, imports customer data, sees the dashboards.
    "manager": [
        "chain.view_chain",
        "chain.view_all_chains",
        "chain.review_chain",
        "chain.view_reviewcomment",
        "chain.add_reviewcomment",
        "chain.change_reviewcomment",
        "chain.view_chainsnapshot",
        "chain.add_chainsnapshot",
        "customers.view_customer",
        "customers.view_assessment",
        "customers.import_values",
    ],
    # Keeps the catalogs, users and teams in the Django admin (the user also needs is_staff).
    "administrator": [
        *(f"chain.{verb}_{model}" for model in CATALOGS for verb in VERBS),
        *(f"auth.{verb}_{model}" for model in ("user", "group") for verb in VERBS),
        # The analysis thresholds page (customers:thresholds).
        "customers.view_thresholdsettings",
        "customers.change_thresholdsettings",
        # The API tokens page lists and revokes every user's tokens.
        "api.manage_all_tokens",
        # The webhooks page (webhooks:list) and everything on it.
        *(f"webhooks.{verb}_webhook" for verb in VERBS),
    ],
}

# Permissions of models that migrations after chain/0003_roles create: when the roles are
# created on a fresh database they do not exist yet, and the migration that creates the
# model gives them to the group (customers/migrations/0007_threshold_settings).
LATER = {
    "customers.view_thresholdsettings",
    "customers.change_thresholdsettings",
    "api.manage_all_tokens",  # api/migrations/0002_administrators
    # webhooks/migrations/0002_administrators
    *(f"webhooks.{verb}_webhook" for verb in VERBS),
}


def roles_ensure(apps) -> None:
    """Create the groups that are missing, with their permissions (`apps`: an app registry)."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in ROLES.items():
        group, created = Group.objects.get_or_create(name=name)
        if not created:
            continue  # administrators may have adjusted an existing group: leave it
        for perm in perms:
            app_label, codename = perm.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is None and perm in LATER:
                continue  # its model's migration gives it to the group (see LATER)
            if permission is None:
                raise LookupError(f"no permission {perm}")
            group.permissions.add(permission)
