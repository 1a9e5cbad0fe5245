"""Reports, takedown requests and admins' decisions; all content encrypted to the admins."""
