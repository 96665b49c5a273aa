SELECT name FROM catalog.organizations WHERE id = $1
