"""The solution.yaml v1 specification: loading, validation, vocabularies.

Pure Python and shared by the registry server and the ``solreg`` CLI, so it
never imports Flask. Heavy helpers (license-expression, lxml, regex) are
imported lazily inside the functions that need them.
"""

from registry.spec.catalogue import CatalogueError, EntityCatalogue, EntityType, default_catalogue
from registry.spec.files import DirectoryFiles, MappingFiles, PackageFiles, UnsafePathError, normalise_path
from registry.spec.problems import Problem, Report, SpecError
from registry.spec.ranges import RangeError, VersionRange, parse_range, parse_version
from registry.spec.validator import MANIFEST_FILE_NAME, check_license, validate_directory, validate_manifest
from registry.spec.yamlload import LoadedYaml, YamlLimits, YamlLoadError, load_yaml_documents, load_yaml_mapping

__all__ = [
    "MANIFEST_FILE_NAME",
    "CatalogueError",
    "DirectoryFiles",
    "EntityCatalogue",
    "EntityType",
    "LoadedYaml",
    "MappingFiles",
    "PackageFiles",
    "Problem",
    "RangeError",
    "Report",
    "SpecError",
    "UnsafePathError",
    "VersionRange",
    "YamlLimits",
    "YamlLoadError",
    "check_license",
    "default_catalogue",
    "load_yaml_documents",
    "load_yaml_mapping",
    "normalise_path",
    "parse_range",
    "parse_version",
    "validate_directory",
    "validate_manifest",
]
